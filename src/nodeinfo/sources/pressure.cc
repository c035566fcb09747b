// /proc/pressure/{cpu,memory,io}: pressure stall information. node_exporter exports "some" as
// waiting and "full" as stalled; cpu "full" is zero at system level, so like node_exporter it is
// left out. A kernel without PSI has no such files: absent, not an error.
#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

struct Resource {
  std::string_view file;
  std::optional<Pressure> PressureSet::*member;
  std::string_view waiting, waiting_help;  // "some"
  std::string_view stalled, stalled_help;  // "full"; empty: not exported
};

constexpr std::array<Resource, 3> kResources = {{
    {"pressure/cpu", &PressureSet::cpu, "node_pressure_cpu_waiting_seconds_total",
     "Total time in seconds that processes have waited for CPU time", "", ""},
    {"pressure/memory", &PressureSet::memory, "node_pressure_memory_waiting_seconds_total",
     "Total time in seconds that processes have waited for memory",
     "node_pressure_memory_stalled_seconds_total",
     "Total time in seconds no process could make progress due to memory congestion"},
    {"pressure/io", &PressureSet::io, "node_pressure_io_waiting_seconds_total",
     "Total time in seconds that processes have waited due to IO congestion",
     "node_pressure_io_stalled_seconds_total",
     "Total time in seconds no process could make progress due to IO congestion"},
}};

class PressureSource final : public Source {
 public:
  explicit PressureSource(const SourceOptions& o)
      : files_{KeptFile(o.fs.procfs, std::string(kResources[0].file)),
               KeptFile(o.fs.procfs, std::string(kResources[1].file)),
               KeptFile(o.fs.procfs, std::string(kResources[2].file))} {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    for (std::size_t i = 0; i < kResources.size(); ++i) {
      const Resource& r = kResources[i];
      if (auto got = files_[i].read(ctx.buf); !got) {
        // CONFIG_PSI=n, or psi=0 on the kernel command line.
        const boost::system::error_code ec = got.error().code;
        if (ec != boost::system::errc::no_such_file_or_directory &&
            ec != boost::system::errc::operation_not_supported) {
          s.errors.push_back(files_[i].reason(ec.message()));
        }
        continue;
      }
      auto p = parse_pressure(ctx.buf);
      if (!p) {
        s.errors.push_back(files_[i].reason(p.error().message()));
        continue;
      }
      s.pressure.*r.member = *p;
      counter(s, r.waiting, r.waiting_help, p->some);
      if (!r.stalled.empty() && p->full) counter(s, r.stalled, r.stalled_help, *p->full);
    }
  }

 private:
  static void counter(Snapshot& s, std::string_view name, std::string_view help,
                      const PressureStat& p) {
    s.families
        .add(metrics::Text::unowned(name), metrics::Text::unowned(help), metrics::Type::kCounter)
        .add(static_cast<double>(p.total_us) / 1e6);
  }

  std::array<KeptFile, 3> files_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_pressure_source(const SourceOptions& o) {
  return std::make_unique<PressureSource>(o);
}

}  // namespace nodeagent::nodeinfo
