#include "render/text.h"

#include <fmt/format.h>

#include <iterator>

#include "render/duration.h"

namespace nodeagent::render {

Result<std::string> render_text(const nodeinfo::Snapshot& snapshot) {
  if (!snapshot.ok()) {
    std::string msg = "node info unavailable";
    const char* sep = ": ";
    for (const std::string& e : snapshot.errors) {
      msg += sep;
      sep = "; ";
      for (char c : e) msg.push_back(c == '\n' || c == '\r' ? ' ' : c);  // keep it one line
    }
    if (snapshot.errors.empty()) msg += ": uptime or loadavg missing";
    return Error{Errc::kUnavailable, std::move(msg)};
  }
  std::string out;
  out.reserve(snapshot.node_name.size() + 96);
  // /proc/loadavg prints two decimals; {:.2f} of the parsed value gives the same digits back.
  fmt::format_to(std::back_inserter(out),
                 "{} uptime: {}, load average: {:.2f}, {:.2f}, {:.2f}, active/total threads: "
                 "{}/{}\n",
                 snapshot.node_name, format_go_duration(*snapshot.uptime_seconds),
                 snapshot.load->load1, snapshot.load->load5, snapshot.load->load15,
                 snapshot.threads->running, snapshot.threads->total);
  return Result<std::string>(boost::system::in_place_value, std::move(out));
}

}  // namespace nodeagent::render
