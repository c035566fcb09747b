#include "render/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace nodeagent::render {

std::string format_go_duration(double seconds) {
  // Largest whole-second value a Go time.Duration (int64 nanoseconds) can hold.
  constexpr double kMaxSeconds = 9223372036.0;
  if (!(seconds >= 1.0)) return "0s";  // also catches NaN
  const auto total = static_cast<std::uint64_t>(std::floor(std::min(seconds, kMaxSeconds)));
  const std::uint64_t h = total / 3600;
  const std::uint64_t m = total / 60 % 60;
  const std::uint64_t s = total % 60;
  if (h > 0) return fmt::format("{}h{}m{}s", h, m, s);
  if (m > 0) return fmt::format("{}m{}s", m, s);
  return fmt::format("{}s", s);
}

}  // namespace nodeagent::render
