#pragma once
// Pure parsers for the procfs files the agent reads: text in, struct or a one-line error out.
// Every error is Error{Errc::kMalformed, reason}, the reason saying what is wrong with the input,
// e.g. "line 3: expected 10 cpu fields, got 4". A reason never quotes more of the input than one
// kMaxExcerpt-byte excerpt, with control characters, quotes and backslashes replaced by '?', so
// it is one safe line however hostile the file.
// No I/O, no allocation beyond the result, never reads past the view. Every parser requires the
// trailing newline the kernel always writes, so a short read is reported instead of half-parsed.
// Numbers must look like the kernel prints them (digits and '.'); "nan", "inf", signs and
// exponents are rejected.
//
// Thread-safety: all functions are pure and may be called concurrently.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// Parse errors quote at most this many bytes of the input, sanitised (see above).
inline constexpr std::size_t kMaxExcerpt = 16;

// /proc/uptime: "<uptime> <idle>\n", seconds since boot and summed idle seconds of all cpus.
struct Uptime {
  double uptime_seconds = 0;
  double idle_seconds = 0;
};
Result<Uptime> parse_uptime(std::string_view text);

// /proc/loadavg: "1.62 1.83 2.25 2/3479 12345\n". threads_* count kernel scheduling entities
// (threads): currently runnable / existing; last_pid is the most recently allocated pid.
struct LoadAvg {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
  std::uint64_t threads_running = 0;
  std::uint64_t threads_total = 0;
  std::uint64_t last_pid = 0;
};
Result<LoadAvg> parse_loadavg(std::string_view text);

// The cpu time columns of /proc/stat, in the kernel's order. Note the kernel's accounting:
// guest is also counted in user, guest_nice also in nice, so user..steal sum to the total.
enum class CpuMode : std::uint8_t {
  kUser,
  kNice,
  kSystem,
  kIdle,
  kIowait,
  kIrq,
  kSoftirq,
  kSteal,
  kGuest,
  kGuestNice,
};
inline constexpr std::size_t kCpuModeCount = 10;
// Modes user..steal: disjoint, they partition cpu time.
inline constexpr std::size_t kCpuDisjointModeCount = 8;
// "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice".
std::string_view cpu_mode_name(CpuMode mode);
inline std::string_view cpu_mode_name(std::size_t index) {
  return cpu_mode_name(static_cast<CpuMode>(index));
}

using CpuJiffies = std::array<std::uint64_t, kCpuModeCount>;  // USER_HZ ticks
using CpuSeconds = std::array<double, kCpuModeCount>;

struct CpuTimes {
  CpuJiffies jiffies{};  // exact counters, used for deltas
  CpuSeconds seconds{};  // jiffies / clk_tck
};

struct PerCpuTimes {
  unsigned cpu = 0;  // N of the "cpuN" line
  CpuTimes times;
};

// /proc/stat. Requires the aggregate "cpu" line, btime, ctxt, processes, procs_running and
// procs_blocked (all present since Linux 2.6); cpu lines need the 10 columns of Linux >= 2.6.33.
// Per-cpu lines exist only for online cpus. clk_tck is sysconf(_SC_CLK_TCK) (USER_HZ).
struct ProcStat {
  CpuTimes total;
  std::vector<PerCpuTimes> cpus;  // in file order (ascending cpu index)
  std::uint64_t boot_time = 0;    // btime, unix seconds
  std::uint64_t context_switches = 0;
  std::uint64_t forks = 0;  // "processes": forks since boot
  std::uint64_t procs_running = 0;
  std::uint64_t procs_blocked = 0;
  std::optional<std::uint64_t> interrupts;  // first number of "intr": all interrupts serviced
};
Result<ProcStat> parse_stat(std::string_view text, long clk_tck);

// One line of /proc/meminfo as the kernel printed it, for node_exporter's one gauge per line.
struct MemInfoLine {
  std::string key;      // e.g. "MemTotal", "Active(anon)", "HugePages_Total"
  std::uint64_t value;  // bytes when `bytes`, else the number as printed (e.g. pages)
  bool bytes = false;   // the line had the "kB" unit
};

// At most this many lines are kept (a kernel prints about 55).
inline constexpr std::size_t kMaxMeminfoLines = 256;

// /proc/meminfo, converted to bytes ("kB" in the file means KiB). Fields the kernel did not
// print stay empty; MemTotal and MemFree are required. `lines` holds every line whose key can
// be a metric name, in file order.
struct MemInfo {
  std::optional<std::uint64_t> mem_total;
  std::optional<std::uint64_t> mem_free;
  std::optional<std::uint64_t> mem_available;  // Linux >= 3.14
  std::optional<std::uint64_t> buffers;
  std::optional<std::uint64_t> cached;
  std::optional<std::uint64_t> swap_cached;
  std::optional<std::uint64_t> swap_total;
  std::optional<std::uint64_t> swap_free;
  std::optional<std::uint64_t> shmem;
  std::optional<std::uint64_t> s_reclaimable;
  std::vector<MemInfoLine> lines;
};
Result<MemInfo> parse_meminfo(std::string_view text);

// One line of /proc/pressure/<resource>: averages are percentages (0..100) of wall time over
// 10 s / 60 s / 300 s; total is cumulative stall time in microseconds.
struct PressureStat {
  double avg10 = 0;
  double avg60 = 0;
  double avg300 = 0;
  std::uint64_t total_us = 0;
};

// /proc/pressure/{cpu,memory,io}: "some" is required, "full" optional (cpu has no "full"
// line before Linux 5.13 and prints zeros for it at system level afterwards).
struct Pressure {
  PressureStat some;
  std::optional<PressureStat> full;
};
Result<Pressure> parse_pressure(std::string_view text);

// /proc/sys/kernel/osrelease: surrounding whitespace trimmed; empty or non-printable rejected.
Result<std::string> parse_osrelease(std::string_view text);

// A sysfs index list such as /sys/devices/system/node/online or .../cpu/online: "0-3,8,10-11\n"
// (comma-separated indexes and inclusive ranges, ascending, no overlaps; an empty list is "\n").
// Returns how many indexes it names.
Result<std::uint32_t> parse_index_list(std::string_view text);

}  // namespace nodeagent::nodeinfo
