#pragma once
// The pure parsers of the conntrack source (sources/conntrack.cc), for its table test and
// fuzzer. Conventions as in nodeinfo/parsers.h.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// The columns of net/stat/nf_conntrack that become node_nf_conntrack_stat_<column>.
inline constexpr std::array<std::string_view, 8> kConntrackStatColumns = {
    "found",         "invalid", "ignore",     "insert",
    "insert_failed", "drop",    "early_drop", "search_restart"};
// Bounds on a hostile file: a kernel prints 17 columns and one line per possible cpu
// (NR_CPUS is at most 8192).
inline constexpr std::size_t kMaxConntrackColumns = 64;
inline constexpr std::size_t kMaxConntrackCpuLines = 8192;

// <procfs>/<pid>/net/stat/nf_conntrack: a header line naming the columns (which vary by
// kernel; "entries" is required), then one line per possible cpu of 8-digit lower-case hex
// counters, one per column. "entries" is the netns's connection count, printed alike on every
// line: the first line's is taken.
struct ConntrackStat {
  std::uint64_t entries = 0;
  std::size_t cpu_lines = 0;
  // Per kConntrackStatColumns entry: the sum over the cpu lines; empty when the header has no
  // such column.
  std::array<std::optional<std::uint64_t>, kConntrackStatColumns.size()> stats{};
};
Result<ConntrackStat> parse_conntrack_stat(std::string_view text);

// <procfs>/sys/net/netfilter/nf_conntrack_max: one non-negative decimal, "262144\n".
Result<std::uint64_t> parse_conntrack_max(std::string_view text);

}  // namespace nodeagent::nodeinfo
