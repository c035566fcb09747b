// /proc/meminfo: node_exporter's one gauge per line, named after the kernel's key.
#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

class MeminfoSource final : public Source {
 public:
  explicit MeminfoSource(const SourceOptions& o) : file_(o.fs.procfs, "meminfo") {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!file_.read(ctx.buf, s.errors)) return;
    auto mi = parse_meminfo(ctx.buf);
    if (!mi) return s.errors.push_back(file_.reason(mi.error().message()));
    s.memory = Memory{mi->mem_total, mi->mem_free,   mi->mem_available, mi->buffers,
                      mi->cached,    mi->swap_total, mi->swap_free};
    // "Active(anon)" -> node_memory_Active_anon_bytes; no "_bytes" for a line without "kB"
    // (node_memory_HugePages_Total). The camelCase is node_exporter's, kept for its dashboards.
    for (const MemInfoLine& line : mi->lines) {
      std::string name = "node_memory_";
      for (char c : line.key) {
        if (c == '(') {
          name.push_back('_');
        } else if (c != ')') {
          name.push_back(c);
        }
      }
      if (line.bytes) name.append("_bytes");
      std::string help = "Memory information field " + name.substr(12) + ".";
      s.families.add(std::move(name), std::move(help), metrics::Type::kGauge).add(line.value);
    }
  }

 private:
  KeptFile file_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_meminfo_source(const SourceOptions& o) {
  return std::make_unique<MeminfoSource>(o);
}

}  // namespace nodeagent::nodeinfo
