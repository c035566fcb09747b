#pragma once
// The pure parser of /proc/diskstats (the diskstats source is sources/diskstats.cc). Same
// conventions as nodeinfo/parsers.h: Error{Errc::kMalformed, reason}, short sanitised excerpts,
// the trailing newline required, plain decimal numbers only.
//
// Thread-safety: pure; may be called concurrently.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// The stat columns after "<major> <minor> <name>", in the kernel's order. Linux < 4.18 prints
// the first 11, 4.18 adds the four discard columns, 5.5 the two flush columns.
enum class DiskStat : std::size_t {
  kReadsCompleted,
  kReadsMerged,
  kSectorsRead,  // 512-byte units whatever the device's sector size
  kReadMs,
  kWritesCompleted,
  kWritesMerged,
  kSectorsWritten,
  kWriteMs,
  kIosInProgress,  // a gauge, the only column that is not a counter
  kIoMs,           // time the device had I/O in flight
  kWeightedIoMs,
  kDiscardsCompleted,
  kDiscardsMerged,
  kSectorsDiscarded,
  kDiscardMs,
  kFlushesCompleted,
  kFlushMs,
};
inline constexpr std::size_t kDiskStatFields = 17;  // kept; later columns are ignored
inline constexpr std::size_t kMinDiskStatFields = 11;

// A file with more devices than this is refused as malformed.
inline constexpr std::size_t kMaxDisks = 4096;
// Longer device names are skipped like names with other characters than [A-Za-z0-9_.:-]
// (the kernel's own limit is 32 bytes).
inline constexpr std::size_t kMaxDiskNameLength = 64;

struct DiskStatsLine {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string device;      // e.g. "nvme0n1", "dm-0"
  std::size_t fields = 0;  // stat columns present, at most kDiskStatFields
  std::array<std::uint64_t, kDiskStatFields> stats{};  // zero beyond `fields`

  std::uint64_t operator[](DiskStat s) const { return stats[static_cast<std::size_t>(s)]; }
};

struct DiskStats {
  std::vector<DiskStatsLine> devices;  // in file order
  std::size_t skipped = 0;             // lines left out: a refused name, or a repeated one
};

// /proc/diskstats: one line per block device, "<major> <minor> <name> <stat>..." with at least
// kMinDiskStatFields stat columns. An empty file (no block devices) is no devices.
Result<DiskStats> parse_diskstats(std::string_view text);

}  // namespace nodeagent::nodeinfo
