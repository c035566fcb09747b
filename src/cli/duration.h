#pragma once
// Duration flag values, one rule for every program (node-agent --interval, node-agent-client
// --timeout, kiada --agent-timeout): the part of Go's time.Duration syntax that makes sense for
// them (units ms, s, m, h), as the seeds' agent takes it.

#include <chrono>
#include <optional>
#include <string_view>

namespace nodeagent::cli {

// "500ms", "1s", "1.5s", "1m30s", "2h": decimal numbers each followed by a unit (ms, s, m, h),
// rounded to whole milliseconds. nullopt for anything else, including a bare number (even 0),
// an exponent, a negative value or an empty string. Range checks are the caller's.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace nodeagent::cli
