// /proc/stat: cpu time per cpu and mode, boot time, context switches, forks, interrupts and the
// processes running or blocked. CPU utilisation is the difference to the previous sample.
#include <algorithm>

#include "nodeinfo/parsers.h"
#include "nodeinfo/sampler.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

// node_exporter's label order for node_cpu_seconds_total: modes sorted by name.
constexpr std::array<CpuMode, 8> kCpuModesSorted = {
    CpuMode::kIdle,    CpuMode::kIowait, CpuMode::kIrq,    CpuMode::kNice,
    CpuMode::kSoftirq, CpuMode::kSteal,  CpuMode::kSystem, CpuMode::kUser};

class StatSource final : public Source {
 public:
  explicit StatSource(const SourceOptions& o) : file_(o.fs.procfs, "stat"), clk_tck_(o.clk_tck) {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!file_.read(ctx.buf, s.errors)) return;
    auto st = parse_stat(ctx.buf, clk_tck_);
    if (!st) return s.errors.push_back(file_.reason(st.error().message()));
    s.boot_time = static_cast<std::int64_t>(st->boot_time);
    s.cpu_count = static_cast<unsigned>(st->cpus.size());
    s.cpu_seconds = st->total.seconds;
    s.per_cpu_seconds.reserve(st->cpus.size());
    for (const PerCpuTimes& c : st->cpus) {
      s.per_cpu_seconds.push_back(PerCpuSeconds{c.cpu, c.times.seconds});
    }
    s.context_switches = st->context_switches;
    s.forks = st->forks;
    s.procs_running = st->procs_running;
    s.procs_blocked = st->procs_blocked;
    // The aggregate line sums all possible cpus, so hot-unplug does not reset it; a different
    // btime means a different boot (or host root), and deltas across it are meaningless.
    if (previous_ && previous_->boot_time == st->boot_time) {
      s.cpu_utilisation = cpu_utilisation(previous_->jiffies, st->total.jiffies);
    }
    previous_ = Previous{st->boot_time, st->total.jiffies};
    add_families(s, *st);
  }

 private:
  struct Previous {
    std::uint64_t boot_time = 0;
    CpuJiffies jiffies{};
  };

  void add_families(Snapshot& s, const ProcStat& st) {
    metrics::FamilySet& f = s.families;
    f.gauge("node_boot_time_seconds", "Node boot time, in unixtime.", s.boot_time);
    f.gauge("node_procs_running", "Number of processes in runnable state.", s.procs_running);
    f.gauge("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.",
            s.procs_blocked);
    f.counter("node_context_switches_total", "Total number of context switches.",
              s.context_switches);
    f.counter("node_forks_total", "Total number of forks.", s.forks);
    f.counter("node_intr_total", "Total number of interrupts serviced.", st.interrupts);
    if (!st.cpus.empty()) {
      // Compared in place: a vector of indexes per sample would be an allocation per sample.
      if (!std::equal(labelled_cpus_.begin(), labelled_cpus_.end(), st.cpus.begin(), st.cpus.end(),
                      [](unsigned cpu, const PerCpuTimes& c) { return cpu == c.cpu; })) {
        build_labels(st);
      }
      auto& seconds = f.add("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
                            metrics::Type::kCounter);
      seconds.series.reserve(cpu_labels_.size());
      std::size_t i = 0;
      for (const PerCpuTimes& c : st.cpus) {
        for (CpuMode m : kCpuModesSorted) {
          cpu_labels_.add(seconds, i++, c.times.seconds[static_cast<std::size_t>(m)]);
        }
      }
      auto& guest =
          f.add("node_cpu_guest_seconds_total",
                "Seconds the CPUs spent in guests (VMs) for each mode.", metrics::Type::kCounter);
      guest.series.reserve(guest_labels_.size());
      i = 0;
      for (const PerCpuTimes& c : st.cpus) {
        guest_labels_.add(guest, i++,
                          c.times.seconds[static_cast<std::size_t>(CpuMode::kGuestNice)]);
        guest_labels_.add(guest, i++, c.times.seconds[static_cast<std::size_t>(CpuMode::kGuest)]);
      }
    }
    f.gauge("nodeagent_cpus_online", "CPUs with a line in /proc/stat (online CPUs).", s.cpu_count);
  }

  static std::vector<unsigned> cpu_indexes(const ProcStat& st) {
    std::vector<unsigned> out;
    out.reserve(st.cpus.size());
    for (const PerCpuTimes& c : st.cpus) out.push_back(c.cpu);
    return out;
  }

  // Label blocks are built when the set of online cpus changes, not every sample.
  void build_labels(const ProcStat& st) {
    labelled_cpus_ = cpu_indexes(st);
    std::vector<std::string> modes, guest;
    for (unsigned cpu : labelled_cpus_) {
      const std::string n = std::to_string(cpu);
      for (CpuMode m : kCpuModesSorted) {
        modes.push_back(metrics::labels({{"cpu", n}, {"mode", cpu_mode_name(m)}}));
      }
      guest.push_back(metrics::labels({{"cpu", n}, {"mode", "nice"}}));
      guest.push_back(metrics::labels({{"cpu", n}, {"mode", "user"}}));
    }
    cpu_labels_ = metrics::LabelBlocks(std::move(modes));
    guest_labels_ = metrics::LabelBlocks(std::move(guest));
  }

  KeptFile file_;
  long clk_tck_;
  std::optional<Previous> previous_;
  std::vector<unsigned> labelled_cpus_;
  metrics::LabelBlocks cpu_labels_, guest_labels_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_stat_source(const SourceOptions& o) {
  return std::make_unique<StatSource>(o);
}

}  // namespace nodeagent::nodeinfo
