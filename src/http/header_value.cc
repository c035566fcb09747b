#include "http/header_value.h"

#include <optional>

namespace nodeagent::http {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// RFC 9110 section 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths; nullopt for anything else ("nan", "1e-1", "0.9995", "2").
std::optional<int> parse_qvalue(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  const int whole = v[0] - '0';
  if (v.size() == 1) return whole * 1000;
  if (v[1] != '.' || v.size() > 5) return std::nullopt;
  int fraction = 0;
  for (char c : v.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    fraction = fraction * 10 + (c - '0');
  }
  for (std::size_t digits = v.size() - 2; digits < 3; ++digits) fraction *= 10;
  if (whole == 1 && fraction != 0) return std::nullopt;
  return whole * 1000 + fraction;
}

// The q parameter among a media range's parameters ("q=0.5; charset=x"), in thousandths; 1000
// when absent, 0 when malformed (an unreadable weight must not win).
int quality(std::string_view params) {
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view param = trim_ows(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() < 2 || lower(param[0]) != 'q' || param[1] != '=') continue;
    return parse_qvalue(param.substr(2)).value_or(0);
  }
  return 1000;
}

// 3 for an exact match, 2 for type/*, 1 for */*, 0 when the range does not cover the type.
int specificity(std::string_view range, std::string_view media_type) {
  if (iequals(range, media_type)) return 3;
  if (range == "*/*") return 1;
  // A content coding ("gzip") has no '/'; Accept-Encoding's wildcard is a bare "*".
  if (range == "*" && media_type.find('/') == std::string_view::npos) return 1;
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
