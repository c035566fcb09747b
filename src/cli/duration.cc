#include "cli/duration.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace nodeagent::cli {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  while (!text.empty()) {
    double value = 0;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
    if (ec != std::errc{} || value < 0 || !std::isfinite(value)) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    std::size_t unit_len = 0;
    while (unit_len < text.size() && text[unit_len] >= 'a' && text[unit_len] <= 'z') ++unit_len;
    std::string_view unit = text.substr(0, unit_len);
    text.remove_prefix(unit_len);
    if (unit == "ms") {
      total_ms += value;
    } else if (unit == "s") {
      total_ms += value * 1e3;
    } else if (unit == "m") {
      total_ms += value * 60e3;
    } else if (unit == "h") {
      total_ms += value * 3600e3;
    } else {
      return std::nullopt;  // includes a bare number: Go requires a unit too
    }
  }
  if (total_ms > 1e15) return std::nullopt;  // would not fit the millisecond count
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

}  // namespace nodeagent::cli
