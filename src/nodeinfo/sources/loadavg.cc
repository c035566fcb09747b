// /proc/loadavg: load averages and the kernel's count of scheduling entities.
#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

class LoadavgSource final : public Source {
 public:
  explicit LoadavgSource(const SourceOptions& o) : file_(o.fs.procfs, "loadavg") {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!file_.read(ctx.buf, s.errors)) return;
    auto la = parse_loadavg(ctx.buf);
    if (!la) return s.errors.push_back(file_.reason(la.error().message()));
    s.load = Load{la->load1, la->load5, la->load15};
    s.threads = Threads{la->threads_running, la->threads_total};
    s.last_pid = la->last_pid;
    s.families.gauge("node_load1", "1m load average.", std::optional(la->load1));
    s.families.gauge("node_load5", "5m load average.", std::optional(la->load5));
    s.families.gauge("node_load15", "15m load average.", std::optional(la->load15));
    // No _total suffix: these are gauges (promtool rejects _total on non-counters).
    s.families.gauge("nodeagent_threads",
                     "Kernel scheduling entities (threads) that exist, /proc/loadavg.",
                     std::optional(la->threads_total));
    s.families.gauge("nodeagent_threads_running",
                     "Kernel scheduling entities (threads) currently runnable, /proc/loadavg.",
                     std::optional(la->threads_running));
  }

 private:
  KeptFile file_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_loadavg_source(const SourceOptions& o) {
  return std::make_unique<LoadavgSource>(o);
}

}  // namespace nodeagent::nodeinfo
