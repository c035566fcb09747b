#include "agent/self_proc.h"

#include <array>
#include <charconv>
#include <limits>
#include <optional>

#include "nodeinfo/tokens.h"

namespace nodeagent::agent {
namespace {

using nodeinfo::malformed;
using nodeinfo::next_field;
using nodeinfo::quoted;
using nodeinfo::to_u64;

}  // namespace

Result<Statm> parse_statm(std::string_view text) {
  if (text.empty()) return malformed("statm: empty");
  if (text.back() != '\n') return malformed("statm: truncated (no trailing newline)");
  std::string_view line = text.substr(0, text.size() - 1);
  if (line.find('\n') != std::string_view::npos) return malformed("statm: more than one line");
  std::array<std::uint64_t, 7> values{};
  std::size_t count = 0;
  for (std::string_view field = next_field(line); !field.empty(); field = next_field(line)) {
    if (count == values.size()) {
      return malformed("statm: more than " + std::to_string(values.size()) + " fields");
    }
    if (!to_u64(field, values[count])) {
      return malformed("statm: field " + std::to_string(count + 1) +
                       " is not a count: " + quoted(field));
    }
    ++count;
  }
  if (count != values.size()) {
    return malformed("statm: expected " + std::to_string(values.size()) + " fields, got " +
                     std::to_string(count));
  }
  return Statm{values[0], values[1], values[2], values[3], values[4], values[5], values[6]};
}

Result<unsigned> parse_status_threads(std::string_view text) {
  constexpr std::string_view kKey = "Threads:";
  std::optional<unsigned> found;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t end = text.find('\n');
    const bool terminated = end != std::string_view::npos;
    std::string_view line = text.substr(0, terminated ? end : text.size());
    text.remove_prefix(terminated ? end + 1 : text.size());
    if (!line.starts_with(kKey)) continue;
    const std::string where = "status line " + std::to_string(line_no);
    if (!terminated) return malformed(where + ": Threads truncated (no trailing newline)");
    if (found) return malformed(where + ": a second Threads line");
    std::string_view rest = line.substr(kKey.size());
    const std::string_view value = next_field(rest);
    std::uint64_t n = 0;
    if (!to_u64(value, n) || !next_field(rest).empty()) {
      return malformed(where + ": Threads is not a count: " + quoted(line.substr(kKey.size())));
    }
    if (n == 0 || n > std::numeric_limits<unsigned>::max()) {
      return malformed(where + ": Threads out of range: " + quoted(value));
    }
    found = static_cast<unsigned>(n);
  }
  if (!found) return malformed("status: no Threads line");
  return *found;
}

Result<nodeinfo::HostRoot> open_self_proc() {
  return nodeinfo::HostRoot::open(std::filesystem::path(kSelfProc));
}

}  // namespace nodeagent::agent
