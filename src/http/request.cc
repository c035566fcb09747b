#include "http/request.h"

namespace nodeagent::http {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

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
