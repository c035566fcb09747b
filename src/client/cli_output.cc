#include "client/cli_output.h"

#include "nodeagent/printable.h"

namespace nodeagent::client::cli_output {

std::string json_line(std::string_view json) {
  std::string flat;
  flat.reserve(json.size());
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '\r' || c == '\n' || c == '\t') {
      c = ' ';
    }
    flat += c;
  }
  while (!flat.empty() && flat.back() == ' ') flat.pop_back();
  return printable(flat);
}

std::string printable_lines(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  while (!body.empty()) {
    const std::size_t end = body.find('\n');
    out += printable(body.substr(0, end));
    if (end == std::string_view::npos) break;
    out += '\n';
    body.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace nodeagent::client::cli_output
