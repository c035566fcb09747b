#pragma once
// Reads every source below the host's roots (HostFs) and builds one Snapshot per call. CPU
// utilisation is the difference to the previous call's /proc/stat, so the first snapshot has none.
//
// Thread-safety: not thread-safe; one sampler thread owns a Sampler. The HostFs must outlive it.

#include <array>
#include <optional>
#include <string>

#include "clock/clock.h"
#include "nodeinfo/host_fs.h"
#include "nodeinfo/parsers.h"
#include "nodeinfo/snapshot.h"

namespace nodeagent::nodeinfo {

class Sampler {
 public:
  // clk_tck defaults to sysconf(_SC_CLK_TCK). Snapshots are stamped with clock.system_now();
  // the clock must outlive the Sampler.
  Sampler(const HostFs& fs, std::string node_name);
  Sampler(const HostFs& fs, std::string node_name, long clk_tck, const Clock& clock = real_clock());

  Snapshot sample();

 private:
  struct PreviousStat {
    std::uint64_t boot_time = 0;
    CpuJiffies jiffies{};
  };

  enum Source : std::size_t {
    kUptime,
    kLoadavg,
    kStat,
    kMeminfo,
    kPressureCpu,
    kPressureMemory,
    kPressureIo,
    kNumaNodes,
    kSourceCount,
  };
  // The root a source lives under (the HostFs member) and its path below it.
  struct SourceSpec {
    HostRoot HostFs::*root;
    std::string_view path;
  };
  static const SourceSpec& spec(Source source);
  const HostRoot& root_of(Source source) const { return fs_.*spec(source).root; }
  // "<root>/<path>: <what>", below the root the source lives under.
  std::string reason(Source source, std::string_view what) const;

  // Reads a source into buf_, through the kept-open file when there is one.
  Result<void> read_source(Source source);
  // Same; on failure records the reason and returns false.
  bool read(Source source, Snapshot& snap);
  void sample_stat(Snapshot& snap);
  void sample_pressure(Snapshot& snap);
  void sample_numa(Snapshot& snap);

  const HostFs& fs_;
  const Clock* clock_;
  std::string node_name_;
  long clk_tck_;
  std::string buf_;  // reused for every file: the same sizes come back every second
  // procfs and sysfs files stay open between samples (see HostFile); files on other filesystems
  // (fixture trees) are reopened every time so a replaced or deleted file is noticed.
  std::array<HostFile, kSourceCount> files_;
  std::optional<PreviousStat> previous_;
  // The release cannot change without a reboot, so it is read until it succeeds once.
  std::optional<std::string> kernel_release_;
  std::optional<Uname> uname_;  // read once at construction
};

// Utilisation per mode between two /proc/stat readings. A counter that went backwards (iowait
// may, and idle of an unplugged cpu) counts as 0 instead of wrapping; nullopt when no time passed.
std::optional<CpuUtilisation> cpu_utilisation(const CpuJiffies& previous,
                                              const CpuJiffies& current);

}  // namespace nodeagent::nodeinfo
