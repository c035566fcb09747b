#pragma once
// Builds one Snapshot per call by running every enabled source (src/nodeinfo/sources/) in the
// registry's order. The Sampler knows no file names: sources do.
//
// Thread-safety: not thread-safe; one sampler thread owns a Sampler. The HostFs and the Clock
// must outlive it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock/clock.h"
#include "nodeinfo/host_fs.h"
#include "nodeinfo/parsers.h"
#include "nodeinfo/snapshot.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {

// Which sources run: every default-on one not named in `disabled`, and every default-off one
// named in `enabled`. Names are SourceInfo::name.
struct SourceSelection {
  std::vector<std::string> disabled;
  std::vector<std::string> enabled;
};

class Sampler {
 public:
  // Every default-on source with default options; clk_tck defaults to sysconf(_SC_CLK_TCK).
  // Snapshots are stamped with clock.system_now().
  Sampler(const HostFs& fs, std::string node_name);
  Sampler(const HostFs& fs, std::string node_name, long clk_tck, const Clock& clock = real_clock());
  // A source that cannot run with these options (SourceInfo::make gave an Error) is left out;
  // skipped() says which and why.
  Sampler(const SourceOptions& options, const SourceSelection& selection);
  // Exactly these sources, named (tests; the agent uses the registry through the above).
  Sampler(std::string node_name, const Clock& clock,
          std::vector<std::pair<std::string, std::unique_ptr<Source>>> sources);

  Snapshot sample();

  // "<source>: <reason>" per selected source that could not be built, for the start-up log.
  const std::vector<std::string>& skipped() const { return skipped_; }
  // Names of the sources that run, in order.
  const std::vector<std::string>& running() const { return running_; }

 private:
  const Clock* clock_;
  std::string node_name_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::string> running_, skipped_;
  // Reused for every file: the same sizes come back every second. Released after a sample that
  // needed more than this (a huge or hostile file must not keep the agent's memory up).
  static constexpr std::size_t kKeepBuffer = 256 * 1024;
  std::string buf_;
  std::size_t families_seen_ = 0;
};

// Utilisation per mode between two /proc/stat readings. A counter that went backwards (iowait
// may, and idle of an unplugged cpu) counts as 0 instead of wrapping; nullopt when no time passed.
std::optional<CpuUtilisation> cpu_utilisation(const CpuJiffies& previous,
                                              const CpuJiffies& current);

}  // namespace nodeagent::nodeinfo
