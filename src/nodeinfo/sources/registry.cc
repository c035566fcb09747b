// The one list of sources. Adding a source: its file in this directory, one row below, its
// families in docs/api.md. Order here is the order of families in /metrics.
#include "nodeinfo/source.h"

// X(name, what it reads, on by default); the factory is make_<name>_source in <name>.cc.
#define NODEAGENT_SOURCES(X)                                                       \
  X(uptime, "/proc/uptime", true)                                                  \
  X(loadavg, "/proc/loadavg", true)                                                \
  X(stat, "/proc/stat: cpu, boot time, context switches, forks, interrupts", true) \
  X(meminfo, "/proc/meminfo", true)                                                \
  X(diskstats, "/proc/diskstats", true)                                            \
  X(netdev, "/proc/1/net/dev: the host's network interfaces", true)                \
  X(pressure, "/proc/pressure/{cpu,memory,io}", true)                              \
  X(numa, "/sys/devices/system/node/online", true)                                 \
  X(kernel, "/proc/sys/kernel/osrelease", true)                                    \
  X(uname, "uname(2); nodename is the node's name", true)                          \
  X(time, "the system clock", true)                                                \
  X(vmstat, "/proc/vmstat", true)                                                  \
  X(filefd, "/proc/sys/fs/file-nr", true)                                          \
  X(conntrack, "/proc/1/net/stat/nf_conntrack, netfilter/nf_conntrack_max", true)  \
  X(timex, "adjtimex(2), read-only", true)                                         \
  X(filesystem, "/proc/1/mountinfo; statfs(2) of each mount below --rootfs", true) \
  X(os, "<rootfs>/etc/os-release or <rootfs>/usr/lib/os-release", true)

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
