#include "nodeinfo/sampler.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace nodeagent::nodeinfo {
std::optional<CpuUtilisation> cpu_utilisation(const CpuJiffies& previous,
                                              const CpuJiffies& current) {
  CpuJiffies delta{};
  std::uint64_t elapsed = 0;
  for (std::size_t m = 0; m < kCpuModeCount; ++m) {
    delta[m] = current[m] >= previous[m] ? current[m] - previous[m] : 0;
    if (m < kCpuDisjointModeCount) elapsed += delta[m];
  }
  if (elapsed == 0) return std::nullopt;
  // Guest time is part of user/nice; clamping keeps the fractions consistent if the two
  // counters were read at slightly different moments.
  delta[static_cast<std::size_t>(CpuMode::kGuest)] =
      std::min(delta[static_cast<std::size_t>(CpuMode::kGuest)],
               delta[static_cast<std::size_t>(CpuMode::kUser)]);
  delta[static_cast<std::size_t>(CpuMode::kGuestNice)] =
      std::min(delta[static_cast<std::size_t>(CpuMode::kGuestNice)],
               delta[static_cast<std::size_t>(CpuMode::kNice)]);
  CpuUtilisation out{};
  const auto total = static_cast<double>(elapsed);
  for (std::size_t m = 0; m < kCpuModeCount; ++m) out[m] = static_cast<double>(delta[m]) / total;
  return out;
}

Sampler::Sampler(const HostFs& fs, std::string node_name)
    : Sampler(fs, std::move(node_name), ::sysconf(_SC_CLK_TCK)) {}

Sampler::Sampler(const HostFs& fs, std::string node_name, long clk_tck, const Clock& clock)
    : fs_(fs),
      clock_(&clock),
      node_name_(std::move(node_name)),
      clk_tck_(clk_tck > 0 ? clk_tck : 100) {
  buf_.reserve(16 * 1024);
  struct utsname u {};
  if (::uname(&u) == 0) {
    uname_ = Uname{u.sysname, u.release, u.version, u.machine, u.domainname};
  }
}

const Sampler::SourceSpec& Sampler::spec(Source source) {
  static constexpr std::array<SourceSpec, kSourceCount> kSpecs = {{
      {&HostFs::procfs, "uptime"},
      {&HostFs::procfs, "loadavg"},
      {&HostFs::procfs, "stat"},
      {&HostFs::procfs, "meminfo"},
      {&HostFs::procfs, "pressure/cpu"},
      {&HostFs::procfs, "pressure/memory"},
      {&HostFs::procfs, "pressure/io"},
      {&HostFs::sysfs, "devices/system/node/online"},
  }};
  return kSpecs[source];
}

std::string Sampler::reason(Source source, std::string_view what) const {
  return root_of(source).reason(spec(source).path, what);
}

Result<void> Sampler::read_source(Source source) {
  HostFile& kept = files_[source];
  if (kept.is_open()) {
    if (kept.read(buf_)) return {};
    kept = HostFile();  // the kept file failed: fall back to opening it afresh
  }
  auto opened = root_of(source).open_file(spec(source).path);
  if (!opened) {
    buf_.clear();
    return opened.error();
  }
  auto got = opened->read(buf_);
  if (got && opened->kernel_generated()) kept = std::move(*opened);
  return got;
}

bool Sampler::read(Source source, Snapshot& snap) {
  if (auto r = read_source(source); !r) {
    snap.errors.push_back(reason(source, r.error().code.message()));
    return false;
  }
  return true;
}

Snapshot Sampler::sample() {
  Snapshot snap;
  snap.node_name = node_name_;
  snap.taken_at = clock_->system_now();

  if (read(kUptime, snap)) {
    if (auto up = parse_uptime(buf_)) {
      snap.uptime_seconds = up->uptime_seconds;
    } else {
      snap.errors.push_back(reason(kUptime, up.error().message()));
    }
  }

  if (read(kLoadavg, snap)) {
    if (auto la = parse_loadavg(buf_)) {
      snap.load = Load{la->load1, la->load5, la->load15};
      snap.threads = Threads{la->threads_running, la->threads_total};
      snap.last_pid = la->last_pid;
    } else {
      snap.errors.push_back(reason(kLoadavg, la.error().message()));
    }
  }

  sample_stat(snap);

  if (read(kMeminfo, snap)) {
    if (auto mi = parse_meminfo(buf_)) {
      snap.memory = Memory{mi->mem_total, mi->mem_free,   mi->mem_available, mi->buffers,
                           mi->cached,    mi->swap_total, mi->swap_free};
      snap.meminfo = std::move(mi->lines);
    } else {
      snap.errors.push_back(reason(kMeminfo, mi.error().message()));
    }
  }

  sample_pressure(snap);
  sample_numa(snap);

  if (!kernel_release_) {
    // Read once (until it succeeds), so not kept open.
    constexpr std::string_view kOsrelease = "sys/kernel/osrelease";
    auto text = fs_.procfs.read_file(kOsrelease);
    if (!text) {
      snap.errors.push_back(fs_.procfs.reason(kOsrelease, text.error().code.message()));
    } else if (auto rel = parse_osrelease(*text)) {
      kernel_release_ = std::move(*rel);
    } else {
      snap.errors.push_back(fs_.procfs.reason(kOsrelease, rel.error().message()));
    }
  }
  snap.kernel_release = kernel_release_;
  snap.uname = uname_;
  return snap;
}

void Sampler::sample_stat(Snapshot& snap) {
  if (!read(kStat, snap)) return;
  auto st = parse_stat(buf_, clk_tck_);
  if (!st) {
    snap.errors.push_back(reason(kStat, st.error().message()));
    return;
  }
  snap.boot_time = static_cast<std::int64_t>(st->boot_time);
  snap.cpu_count = static_cast<unsigned>(st->cpus.size());
  snap.cpu_seconds = st->total.seconds;
  snap.per_cpu_seconds.reserve(st->cpus.size());
  for (const PerCpuTimes& c : st->cpus) {
    snap.per_cpu_seconds.push_back(PerCpuSeconds{c.cpu, c.times.seconds});
  }
  snap.context_switches = st->context_switches;
  snap.forks = st->forks;
  snap.procs_running = st->procs_running;
  snap.procs_blocked = st->procs_blocked;
  snap.interrupts = st->interrupts;
  // The aggregate line sums all possible cpus, so hot-unplug does not reset it; a different
  // btime means a different boot (or host root), and deltas across it are meaningless.
  if (previous_ && previous_->boot_time == st->boot_time) {
    snap.cpu_utilisation = cpu_utilisation(previous_->jiffies, st->total.jiffies);
  }
  previous_ = PreviousStat{st->boot_time, st->total.jiffies};
}

void Sampler::sample_numa(Snapshot& snap) {
  if (auto r = read_source(kNumaNodes); !r) {
    // A kernel built without NUMA support has no node directory: absent, not an error.
    if (r.error().code != boost::system::errc::no_such_file_or_directory)
      snap.errors.push_back(reason(kNumaNodes, r.error().code.message()));
    return;
  }
  if (auto nodes = parse_index_list(buf_)) {
    snap.numa_nodes = *nodes;
  } else {
    snap.errors.push_back(reason(kNumaNodes, nodes.error().message()));
  }
}

void Sampler::sample_pressure(Snapshot& snap) {
  static constexpr std::array<std::pair<Source, std::optional<Pressure> PressureSet::*>, 3> kFiles =
      {{{kPressureCpu, &PressureSet::cpu},
        {kPressureMemory, &PressureSet::memory},
        {kPressureIo, &PressureSet::io}}};
  for (const auto& [source, member] : kFiles) {
    if (auto r = read_source(source); !r) {
      // A kernel without PSI (CONFIG_PSI=n, or psi=0 on the command line) is not an error:
      // the readings are simply absent.
      const boost::system::error_code ec = r.error().code;
      if (ec != boost::system::errc::no_such_file_or_directory &&
          ec != boost::system::errc::operation_not_supported) {
        snap.errors.push_back(reason(source, ec.message()));
      }
      continue;
    }
    if (auto p = parse_pressure(buf_)) {
      snap.pressure.*member = *p;
    } else {
      snap.errors.push_back(reason(source, p.error().message()));
    }
  }
}

}  // namespace nodeagent::nodeinfo
