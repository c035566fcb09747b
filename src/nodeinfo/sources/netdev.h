#pragma once
// The pure parser of /proc/<pid>/net/dev (the netdev source is sources/netdev.cc). Same
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

// The counter columns after "<device>:", in the kernel's order.
enum class NetDevStat : std::size_t {
  kReceiveBytes,
  kReceivePackets,
  kReceiveErrs,
  kReceiveDrop,
  kReceiveFifo,
  kReceiveFrame,
  kReceiveCompressed,
  kReceiveMulticast,
  kTransmitBytes,
  kTransmitPackets,
  kTransmitErrs,
  kTransmitDrop,
  kTransmitFifo,
  kTransmitColls,
  kTransmitCarrier,
  kTransmitCompressed,
};
inline constexpr std::size_t kNetDevFields = 16;  // all required; later columns are ignored

// A file with more interfaces than this is refused as malformed.
inline constexpr std::size_t kMaxNetDevices = 4096;
// Longer names are skipped like names with other characters than [A-Za-z0-9_.-] (the kernel's
// own limit is 15 bytes).
inline constexpr std::size_t kMaxNetDeviceNameLength = 64;

struct NetDevLine {
  std::string device;  // e.g. "eth0", "flannel.1"
  std::array<std::uint64_t, kNetDevFields> stats{};

  std::uint64_t operator[](NetDevStat s) const { return stats[static_cast<std::size_t>(s)]; }
};

struct NetDev {
  std::vector<NetDevLine> devices;  // in file order
  std::size_t skipped = 0;          // lines left out: a refused name, or a repeated one
};

// Two header lines, then one "<device>: <16 counters>" line per interface. The kernel pads the
// name on the left; a long name may be followed by the first number without a blank.
Result<NetDev> parse_netdev(std::string_view text);

}  // namespace nodeagent::nodeinfo
