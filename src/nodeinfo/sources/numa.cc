// /sys/devices/system/node/online: how many NUMA nodes are online. A kernel built without NUMA
// support has no node directory: absent, not an error.
#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

class NumaSource final : public Source {
 public:
  explicit NumaSource(const SourceOptions& o) : file_(o.fs.sysfs, "devices/system/node/online") {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (auto r = file_.read(ctx.buf); !r) {
      if (r.error().code != boost::system::errc::no_such_file_or_directory)
        s.errors.push_back(file_.reason(r.error().code.message()));
      return;
    }
    auto nodes = parse_index_list(ctx.buf);
    if (!nodes) return s.errors.push_back(file_.reason(nodes.error().message()));
    s.numa_nodes = *nodes;
    s.families.gauge("nodeagent_numa_nodes", "NUMA nodes online (/sys/devices/system/node/online).",
                     s.numa_nodes);
  }

 private:
  KeptFile file_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_numa_source(const SourceOptions& o) {
  return std::make_unique<NumaSource>(o);
}

}  // namespace nodeagent::nodeinfo
