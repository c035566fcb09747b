#pragma once
// The os source's parser: os-release(5), the shell-style KEY=value file that names the host's
// distribution (read below --rootfs, so it is the host's, not the agent image's).
//
// Thread-safety: pure functions; may be called concurrently.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// Larger files are refused (a real one is well under 1 KiB).
inline constexpr std::size_t kMaxOsReleaseSize = 64 * 1024;

struct OsRelease {
  std::map<std::string, std::string, std::less<>> values;  // a later duplicate key wins

  // The value of `key`, or "" when the file does not set it; valid while this object lives.
  std::string_view get(std::string_view key) const;
};

// Lines are KEY=value, the key [A-Za-z_][A-Za-z0-9_]*; the value is shell-like: unquoted text
// (backslash escapes the next character), '...' taken literally, "..." where a backslash escapes
// only $ ` " and \, or several of those side by side ("a"'b'). Blank lines and lines starting
// with '#' are skipped; a final newline is not required (the file is written by people, not the
// kernel). A line that is none of these (no '=', a bad key, an unterminated quote) fails the
// whole file, saying which line.
Result<OsRelease> parse_os_release(std::string_view text);

// The leading number of VERSION_ID ("12" -> 12, "22.04" -> 22.04, "2.1.x" -> 2.1); empty when it
// does not start with a digit or the number does not fit a double.
std::optional<double> os_version_number(std::string_view version_id);

}  // namespace nodeagent::nodeinfo
