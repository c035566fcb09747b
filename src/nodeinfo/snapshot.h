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

#include "metrics/family.h"
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

struct PressureSet {  // /proc/pressure/*; each empty when the file is missing or bad
  std::optional<Pressure> cpu;
  std::optional<Pressure> memory;
  std::optional<Pressure> io;
};

// Summaries for JSON and Kiada of the per-device sources; Prometheus gets the full families.
struct DiskReading {  // /proc/diskstats, one whole disk (partitions are left out)
  std::string device;
  std::uint64_t read_bytes = 0;
  std::uint64_t written_bytes = 0;
  double io_time_seconds = 0;  // time the disk was busy
  // Since the previous sample; empty on the first one or after a counter reset.
  std::optional<double> read_bytes_per_second;
  std::optional<double> written_bytes_per_second;
};

struct NetDeviceReading {  // the host's <procfs>/1/net/dev, one interface
  std::string device;
  std::uint64_t receive_bytes = 0, transmit_bytes = 0;
  std::uint64_t receive_packets = 0, transmit_packets = 0;
  std::uint64_t receive_errs = 0, transmit_errs = 0;
  std::uint64_t receive_drop = 0, transmit_drop = 0;
  std::optional<double> receive_bytes_per_second;  // as DiskReading's rates
  std::optional<double> transmit_bytes_per_second;
};

struct FilesystemReading {  // one mount of the host's mount table, statfs'd below --rootfs
  std::string mountpoint, device, fstype;
  bool readonly = false;
  // Empty when statfs failed or has not answered: then `error` says why.
  std::optional<std::uint64_t> size_bytes, free_bytes, avail_bytes, files, files_free;
  std::optional<std::string> error;
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
  PressureSet pressure;  // all empty on kernels without PSI
  // sysfs devices/system/node/online; empty on kernels without NUMA support (no such file).
  std::optional<std::uint32_t> numa_nodes;
  std::optional<std::string> kernel_release;  // /proc/sys/kernel/osrelease

  std::vector<DiskReading> disks;              // empty when the diskstats source is off or failed
  std::vector<NetDeviceReading> net_devices;   // likewise, netdev
  std::vector<FilesystemReading> filesystems;  // likewise, filesystem
  std::optional<std::string> os_pretty_name;   // the host's os-release PRETTY_NAME

  // Every Prometheus family of this sample, in /metrics order (render_prometheus writes them).
  metrics::FamilySet families;

  std::vector<std::string> errors;  // "<path>: <reason>", one per failed source

  // The seed line's sources (uptime and loadavg) are present.
  bool ok() const { return uptime_seconds.has_value() && load.has_value() && threads.has_value(); }
};

}  // namespace nodeagent::nodeinfo
