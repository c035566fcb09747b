#include "nodeinfo/tokens.h"

#include "nodeinfo/parsers.h"

namespace nodeagent::nodeinfo {

Error malformed(std::string reason) { return Error{Errc::kMalformed, std::move(reason)}; }

Error line_error(std::size_t line_no, std::string_view what) {
  std::string reason = "line " + std::to_string(line_no) + ": ";
  reason.append(what);
  return malformed(std::move(reason));
}

std::string_view next_line(std::string_view& rest) {
  const std::size_t nl = rest.find('\n');
  const std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  return line;
}

std::string_view next_field(std::string_view& rest) {
  std::size_t i = 0;
  while (i < rest.size() && is_blank(rest[i])) ++i;
  std::size_t j = i;
  while (j < rest.size() && !is_blank(rest[j])) ++j;
  const std::string_view field = rest.substr(i, j - i);
  rest.remove_prefix(j);
  return field;
}

bool only_blanks(std::string_view s) {
  for (char c : s) {
    if (!is_blank(c)) return false;
  }
  return true;
}

bool to_u64(std::string_view tok, std::uint64_t& out) {
  if (tok.empty()) return false;
  std::uint64_t v = 0;
  for (char c : tok) {  // one pass: a sample converts a few thousand numbers
    const auto digit = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
    if (digit > 9) return false;
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, digit, &v)) return false;
  }
  out = v;
  return true;
}

std::string quoted(std::string_view tok) {
  std::string out = "\"";
  for (char c : tok.substr(0, kMaxExcerpt)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f && c != '"' && c != '\\' ? c : '?');
  }
  if (tok.size() > kMaxExcerpt) out += "...";
  out += '"';
  return out;
}

}  // namespace nodeagent::nodeinfo
