#pragma once
// Thread-safety: pure function, safe to call concurrently.

#include <string>

namespace nodeagent::render {

// Go's time.Duration.String() for a whole number of seconds (fractions truncated), as the seed
// agent prints uptime: "0s", "59s", "1m0s", "1h0m0s", "26h3m4s" (hours never become days).
// Negative, NaN and infinite values give "0s"; values beyond Go's Duration range are clamped to
// it (2562047h47m16s).
std::string format_go_duration(double seconds);

}  // namespace nodeagent::render
