#pragma once
// The pure parser of /proc/vmstat (sources/vmstat.cc), for its table test and fuzzer.
// Conventions as in nodeinfo/parsers.h: Error{Errc::kMalformed, reason}, short sanitised
// excerpts, the trailing newline required.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// A kernel prints about 200 counters (192 on 6.18); more lines than this are refused.
inline constexpr std::size_t kMaxVmstatLines = 512;
// Longer names are skipped (the longest on 6.18 has 35 bytes).
inline constexpr std::size_t kMaxVmstatNameSize = 64;

struct VmstatLine {
  std::string_view name;  // a view into the parsed text: [a-z0-9_], 1..kMaxVmstatNameSize bytes
  std::uint64_t value = 0;
};

// /proc/vmstat: one "<name> <value>\n" line per counter, value a plain unsigned decimal. Lines
// whose name could not be part of a metric name are skipped; a name seen twice is an error.
// `lines` is in file order and views `text`, which must outlive it.
// `known`: the names of an earlier reading that passed this check. A kernel prints the same
// names in the same order every time; when this reading's names are exactly `known`, there can
// be no duplicate, the sort that finds one is skipped and `same_as_known` is set.
struct Vmstat {
  std::vector<VmstatLine> lines;
  bool same_as_known = false;
};
Result<Vmstat> parse_vmstat(std::string_view text, const std::vector<std::string>& known = {});

}  // namespace nodeagent::nodeinfo
