#pragma once
// A source reads one part of the host once per sample (a file, a few files, or a syscall) and
// adds to the Snapshot being built: its Prometheus families (Snapshot::families), the typed
// readings that JSON, the text line and Kiada use (only sources those need), and one
// "<path>: <reason>" line in Snapshot::errors per failure. A failed reading is left out, never
// estimated or filled with zeros.
//
// Every source is one file in src/nodeinfo/sources/ (its parser, its Source class, its families)
// and one row in sources/registry.cc; docs/api.md lists its families.
//
// Thread-safety: a Source is used by the one sampler thread only.

#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clock/clock.h"
#include "nodeinfo/host_fs.h"
#include "nodeinfo/snapshot.h"

namespace nodeagent::nodeinfo {

// The sources' settings a user can change (node_exporter's flags, same defaults). Regexes are
// ECMAScript (std::regex) and match anywhere in the name unless anchored (std::regex_search,
// like node_exporter's Go regexps): "fault" selects pgfault and pgmajfault.
struct SourceTunables {
  std::string diskstats_device_exclude = R"(^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$)";
  std::string netdev_device_exclude = "^lo$";
  std::string vmstat_fields = R"(^(oom_kill|pgpg|pswp|pg.*fault).*)";
  std::string filesystem_mount_points_exclude =
      R"(^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/))";
  std::string filesystem_fs_types_exclude =
      "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
      "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
      "sysfs|tracefs)$";
  // A statfs that has not answered after this long marks its mount as stuck.
  std::chrono::milliseconds filesystem_timeout{5000};
};

// What every source may need at construction: SourceOptions{{tunables}, fs, clock, ...}.
struct SourceOptions : SourceTunables {
  const HostFs& fs;
  const Clock& clock;
  long clk_tck = 100;     // USER_HZ
  std::string node_name;  // stands in for the pod's own UTS nodename
};

// Per call of Source::sample().
struct SampleContext {
  std::chrono::system_clock::time_point now;  // the sample's time, from the injected clock
  // The same moment on the steady clock: rates divide by differences of this, which a step of
  // the system clock (NTP, settimeofday) cannot make negative or tiny.
  std::chrono::steady_clock::time_point steady;
  std::string& buf;  // the sampler's reused read buffer
  Snapshot& snap;    // families, readings and errors go here
};

class Source {
 public:
  virtual ~Source() = default;
  // Reads and adds to ctx.snap. Must not block on anything but the kernel answering a read of
  // procfs or sysfs (a source that can hang, like statfs, does its waiting on a thread of its
  // own). May keep files open and state between calls.
  virtual void sample(SampleContext& ctx) = 0;
};

struct SourceInfo {
  std::string_view name;   // node_exporter's collector name where there is one: the flag name
  std::string_view reads;  // what it reads, for --help: "/proc/meminfo"
  bool default_on = true;
  // An Error when the source cannot run with these options (e.g. filesystem without --rootfs):
  // its detail is the reason, for the start-up log.
  Result<std::unique_ptr<Source>> (*make)(const SourceOptions&) = nullptr;
};

// Every source, in the order their families appear in /metrics (src/nodeinfo/sources/registry.cc).
std::span<const SourceInfo> all_sources();

// The one regex flavour of the sources' flags (node_exporter's are Go regexps, searched for
// anywhere in a name; ECMAScript is the nearest std::regex has). The error names `what` and the
// pattern: `diskstats device exclude "[": ...`.
Result<std::regex> compile_regex(std::string_view what, const std::string& pattern);

// A file below one of the host's roots, opened on first use and kept open while the kernel
// generates it (procfs, sysfs); files of other filesystems (fixture trees) are reopened every
// time so a replaced file is noticed. `whole_records`: the file is a multi-record seq_file
// (diskstats, net/dev, vmstat, mountinfo) and is read to EOF, not with one pread.
class KeptFile {
 public:
  KeptFile(const HostRoot& root, std::string relative, bool whole_records = false)
      : root_(&root), relative_(std::move(relative)), whole_records_(whole_records) {}

  // The whole content into `buf`; the error is the errno (boost::system::errc).
  Result<void> read(std::string& buf);
  // read(); on failure adds "<root>/<relative>: <reason>" to `errors` and returns false.
  bool read(std::string& buf, std::vector<std::string>& errors);
  // "<root>/<relative>: <what>"
  std::string reason(std::string_view what) const { return root_->reason(relative_, what); }
  // For a mount table: true when the file is kept open and the kernel says its mount namespace
  // has not changed since the last call (HostFile::mounts_changed), so what the last read gave
  // still holds. False for files read afresh each time (fixture trees): read them.
  bool mounts_unchanged() const { return file_.is_open() && !file_.mounts_changed(); }

 private:
  const HostRoot* root_;
  std::string relative_;
  bool whole_records_;
  HostFile file_;
};

}  // namespace nodeagent::nodeinfo
