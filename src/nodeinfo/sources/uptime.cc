// /proc/uptime: seconds since boot.
#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

class UptimeSource final : public Source {
 public:
  explicit UptimeSource(const SourceOptions& o) : file_(o.fs.procfs, "uptime") {}

  void sample(SampleContext& ctx) override {
    if (!file_.read(ctx.buf, ctx.snap.errors)) return;
    auto up = parse_uptime(ctx.buf);
    if (!up) return ctx.snap.errors.push_back(file_.reason(up.error().message()));
    ctx.snap.uptime_seconds = up->uptime_seconds;
    ctx.snap.families.gauge("nodeagent_uptime_seconds", "Seconds since boot, from /proc/uptime.",
                            ctx.snap.uptime_seconds);
  }

 private:
  KeptFile file_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_uptime_source(const SourceOptions& o) {
  return std::make_unique<UptimeSource>(o);
}

}  // namespace nodeagent::nodeinfo
