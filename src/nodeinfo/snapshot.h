#pragma once
// One reading of the node, built by Sampler::sample() and then never modified: the agent shares
// it between threads as std::shared_ptr<const Snapshot> and renders it once.
//
// A source that could not be read or parsed leaves its fields empty (std::nullopt) and adds a
// one-line reason to `errors`; nothing is estimated or filled with zeros.
//
// Thread-safety: a const Snapshot may be read concurrently.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nodeinfo/parsers.h"

namespace nodeagent::nodeinfo {

struct Load {  // /proc/loadavg fields 1-3
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
};

struct Threads {  // /proc/loadavg field 4: runnable / existing kernel scheduling entities
  std::uint64_t running = 0;
  std::uint64_t total = 0;
};

struct PerCpuSeconds {
  unsigned cpu = 0;  // kernel cpu index (gaps when cpus are offline)
  CpuSeconds seconds{};
};

// Fractions 0..1 of the cpu time that passed between two samples, per mode. The disjoint modes
// user..steal sum to 1; guest/guest_nice are the parts of user/nice spent running guests.
using CpuUtilisation = std::array<double, kCpuModeCount>;

struct Memory {  // /proc/meminfo, bytes
  std::optional<std::uint64_t> total;
  std::optional<std::uint64_t> free;
  std::optional<std::uint64_t> available;
  std::optional<std::uint64_t> buffers;
  std::optional<std::uint64_t> cached;
  std::optional<std::uint64_t> swap_total;
  std::optional<std::uint64_t> swap_free;

  // total - available, as procps-ng >= 4 `free` computes "used"; empty without MemAvailable.
  std::optional<std::uint64_t> used() const;
  std::optional<std::uint64_t> swap_used() const;  // swap_total - swap_free
};

struct Uname {  // node_uname_info's labels
  std::string sysname, release, version, machine, domainname;
};

struct PressureSet {  // /proc/pressure/*; each empty when the file is missing or bad
  std::optional<Pressure> cpu;
  std::optional<Pressure> memory;
  std::optional<Pressure> io;
};

struct Snapshot {
  std::string node_name;
  std::chrono::system_clock::time_point taken_at{};

  std::optional<double> uptime_seconds;   // /proc/uptime field 1
  std::optional<std::int64_t> boot_time;  // /proc/stat btime, unix seconds
  std::optional<Load> load;
  std::optional<Threads> threads;
  std::optional<std::uint64_t> last_pid;  // /proc/loadavg field 5

  // /proc/stat
  std::optional<unsigned> cpu_count;  // per-cpu lines = online cpus
  std::optional<CpuSeconds> cpu_seconds;
  std::vector<PerCpuSeconds> per_cpu_seconds;     // empty when /proc/stat failed
  std::optional<CpuUtilisation> cpu_utilisation;  // empty on the first sample
  std::optional<std::uint64_t> context_switches;
  std::optional<std::uint64_t> forks;
  std::optional<std::uint64_t> procs_running;
  std::optional<std::uint64_t> procs_blocked;

  Memory memory;
  std::vector<MemInfoLine> meminfo;         // every /proc/meminfo line, for node_memory_*
  std::optional<std::uint64_t> interrupts;  // /proc/stat intr total
  PressureSet pressure;                     // all empty on kernels without PSI
  // sysfs devices/system/node/online; empty on kernels without NUMA support (no such file).
  std::optional<std::uint32_t> numa_nodes;
  std::optional<std::string> kernel_release;  // /proc/sys/kernel/osrelease
  // uname(2) of the kernel, which a pod shares with its node; the node name stands in for the
  // pod's own UTS nodename. Empty when uname failed.
  std::optional<Uname> uname;

  std::vector<std::string> errors;  // "<path>: <reason>", one per failed source

  // The seed line's sources (uptime and loadavg) are present.
  bool ok() const { return uptime_seconds.has_value() && load.has_value() && threads.has_value(); }
};

}  // namespace nodeagent::nodeinfo
