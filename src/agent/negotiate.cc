#include "agent/negotiate.h"

#include <charconv>

namespace nodeagent::agent {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Quality of one media range's parameters: q=0.5 -> 500 (thousandths, as RFC 9110 allows 3 digits).
int quality(std::string_view params) {
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    double q = 0;
    auto value = param.substr(2);
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc{} || q < 0 || q > 1) return 0;  // malformed weight: ignore this range
    return static_cast<int>(q * 1000 + 0.5);
  }
  return 1000;
}

}  // namespace

bool prefers_json(std::string_view accept) {
  // Specificity decides which range applies to a type: exact (3) > type/* (2) > */* (1).
  int json_q = 0, json_spec = 0, text_q = 0, text_spec = 0;
  while (!accept.empty()) {
    std::size_t comma = accept.find(',');
    std::string_view range = trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    std::size_t semi = range.find(';');
    std::string_view type = trim(range.substr(0, semi));
    int q = quality(semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1));
    auto apply = [&](int spec, int& best_q, int& best_spec) {
      if (spec > best_spec) {
        best_spec = spec;
        best_q = q;
      }
    };
    if (iequals(type, "application/json")) apply(3, json_q, json_spec);
    if (iequals(type, "application/*")) apply(2, json_q, json_spec);
    if (iequals(type, "text/plain")) apply(3, text_q, text_spec);
    if (iequals(type, "text/*")) apply(2, text_q, text_spec);
    if (type == "*/*") {
      apply(1, json_q, json_spec);
      apply(1, text_q, text_spec);
    }
  }
  return json_q > text_q;
}

}  // namespace nodeagent::agent
