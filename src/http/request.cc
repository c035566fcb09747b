#include "http/request.h"

#include "http/header_value.h"

namespace nodeagent::http {

std::string RemoteAddress::to_string() const {
  if (!ip) return "unix";
  // Appends instead of operator+ chains: GCC 12 emits a false -Wrestrict for those.
  std::string out;
  if (ip->is_v6()) out += '[';
  out += ip->to_string();
  if (ip->is_v6()) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& field : headers) {
    if (iequals(field.name, name)) return field.value;
  }
  return {};
}

}  // namespace nodeagent::http
