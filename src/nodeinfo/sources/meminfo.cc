// /proc/meminfo: node_exporter's one gauge per line, named after the kernel's key.
#include <algorithm>

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
    if (!same_keys(mi->lines)) name_families(mi->lines);
    for (std::size_t i = 0; i < mi->lines.size(); ++i) {
      s.families.add(names_[i].name, names_[i].help, metrics::Type::kGauge).add(mi->lines[i].value);
    }
  }

 private:
  struct Named {
    std::string key;
    metrics::Text name, help;
    bool bytes = false;
  };

  // The kernel prints the same lines every time: names are made when that changes.
  bool same_keys(const std::vector<MemInfoLine>& lines) const {
    return lines.size() == names_.size() && std::equal(lines.begin(), lines.end(), names_.begin(),
                                                       [](const MemInfoLine& l, const Named& n) {
                                                         return l.key == n.key &&
                                                                l.bytes == n.bytes;
                                                       });
  }

  // "Active(anon)" -> node_memory_Active_anon_bytes; no "_bytes" for a line without "kB"
  // (node_memory_HugePages_Total). The camelCase is node_exporter's, kept for its dashboards.
  void name_families(const std::vector<MemInfoLine>& lines) {
    names_.clear();
    for (const MemInfoLine& line : lines) {
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
      names_.push_back(Named{std::string(line.key), std::move(name), std::move(help), line.bytes});
    }
  }

  KeptFile file_;
  std::vector<Named> names_;  // per line of the last reading
};

}  // namespace

Result<std::unique_ptr<Source>> make_meminfo_source(const SourceOptions& o) {
  return std::make_unique<MeminfoSource>(o);
}

}  // namespace nodeagent::nodeinfo
