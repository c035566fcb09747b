#pragma once
// Reads every source through a HostFs and builds one Snapshot per call. CPU utilisation is the
// difference to the previous call's /proc/stat, so the first snapshot has none.
//
// Thread-safety: not thread-safe; one sampler thread owns a Sampler. The HostFs must outlive it.

#include <optional>
#include <string>

#include "nodeinfo/host_fs.h"
#include "nodeinfo/parsers.h"
#include "nodeinfo/snapshot.h"

namespace nodeagent::nodeinfo {

class Sampler {
 public:
  // clk_tck defaults to sysconf(_SC_CLK_TCK).
  Sampler(const HostFs& fs, std::string node_name);
  Sampler(const HostFs& fs, std::string node_name, long clk_tck);

  Snapshot sample();

 private:
  struct PreviousStat {
    std::uint64_t boot_time = 0;
    CpuJiffies jiffies{};
  };

  // Reads procfs file `relative` into buf_; on failure records the reason and returns false.
  bool read(std::string_view relative, Snapshot& snap);
  void sample_stat(Snapshot& snap);
  void sample_pressure(Snapshot& snap);

  const HostFs& fs_;
  std::string node_name_;
  long clk_tck_;
  std::string buf_;  // reused for every file: the same sizes come back every second
  std::optional<PreviousStat> previous_;
  // The release cannot change without a reboot, so it is read until it succeeds once.
  std::optional<std::string> kernel_release_;
};

// Utilisation per mode between two /proc/stat readings. A counter that went backwards (iowait
// may, and idle of an unplugged cpu) counts as 0 instead of wrapping; nullopt when no time passed.
std::optional<CpuUtilisation> cpu_utilisation(const CpuJiffies& previous,
                                              const CpuJiffies& current);

}  // namespace nodeagent::nodeinfo
