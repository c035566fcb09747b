#include "http/header_value.h"

#include <charconv>

namespace nodeagent::http {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The q parameter among a media range's parameters ("q=0.5; charset=x"), in thousandths; 1000
// when absent, 0 when malformed (an unreadable weight must not win).
int quality(std::string_view params) {
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view param = trim_ows(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() < 2 || lower(param[0]) != 'q' || param[1] != '=') continue;
    double q = 0;
    std::string_view value = param.substr(2);
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc{} || end != value.data() + value.size() || q < 0 || q > 1) return 0;
    return static_cast<int>(q * 1000 + 0.5);
  }
  return 1000;
}

// 3 for an exact match, 2 for type/*, 1 for */*, 0 when the range does not cover the type.
int specificity(std::string_view range, std::string_view media_type) {
  if (iequals(range, media_type)) return 3;
  if (range == "*/*") return 1;
  std::size_t slash = media_type.find('/');
  if (slash != std::string_view::npos && range.size() == slash + 2 && range.substr(slash) == "/*" &&
      iequals(range.substr(0, slash), media_type.substr(0, slash))) {
    return 2;
  }
  return 0;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int accept_quality(std::string_view accept, std::string_view media_type) {
  int best_q = 0;
  int best_spec = 0;
  while (!accept.empty()) {
    std::size_t comma = accept.find(',');
    std::string_view range = trim_ows(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    std::size_t semi = range.find(';');
    int spec = specificity(trim_ows(range.substr(0, semi)), media_type);
    if (spec > best_spec) {
      best_spec = spec;
      best_q =
          quality(semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1));
    }
  }
  return best_q;
}

}  // namespace nodeagent::http
