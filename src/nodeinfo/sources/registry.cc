// The one list of sources. Adding a source: its file in this directory, one row below, its
// families in docs/api.md. Order here is the order of families in /metrics.
#include "nodeinfo/source.h"

// X(name, what it reads, on by default); the factory is make_<name>_source in <name>.cc.
#define NODEAGENT_SOURCES(X)                                                       \
  X(uptime, "/proc/uptime", true)                                                  \
  X(loadavg, "/proc/loadavg", true)                                                \
  X(stat, "/proc/stat: cpu, boot time, context switches, forks, interrupts", true) \
  X(meminfo, "/proc/meminfo", true)                                                \
  X(pressure, "/proc/pressure/{cpu,memory,io}", true)                              \
  X(numa, "/sys/devices/system/node/online", true)                                 \
  X(kernel, "/proc/sys/kernel/osrelease", true)                                    \
  X(uname, "uname(2); nodename is the node's name", true)                          \
  X(time, "the system clock", true)

namespace nodeagent::nodeinfo {

#define NODEAGENT_DECLARE(name, reads, on) \
  Result<std::unique_ptr<Source>> make_##name##_source(const SourceOptions&);
NODEAGENT_SOURCES(NODEAGENT_DECLARE)
#undef NODEAGENT_DECLARE

std::span<const SourceInfo> all_sources() {
#define NODEAGENT_ROW(name, reads, on) SourceInfo{#name, reads, on, &make_##name##_source},
  static const SourceInfo kSources[] = {NODEAGENT_SOURCES(NODEAGENT_ROW)};
#undef NODEAGENT_ROW
  return kSources;
}

}  // namespace nodeagent::nodeinfo
