// /proc/sys/kernel/osrelease, for the node's kernel release in JSON and nodeagent_node_info.
// The release cannot change without a reboot, so it is read until it succeeds once.
#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

class KernelSource final : public Source {
 public:
  explicit KernelSource(const SourceOptions& o) : procfs_(o.fs.procfs) {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!release_) {
      constexpr std::string_view kOsrelease = "sys/kernel/osrelease";
      auto text = procfs_.read_file(kOsrelease);
      if (!text) {
        s.errors.push_back(procfs_.reason(kOsrelease, text.error().code.message()));
      } else if (auto rel = parse_osrelease(*text)) {
        release_ = std::move(*rel);
        labels_ = metrics::labels({{"node", s.node_name}, {"kernel_release", *release_}});
      } else {
        s.errors.push_back(procfs_.reason(kOsrelease, rel.error().message()));
      }
    }
    if (!release_) return;
    s.kernel_release = release_;
    // Info metric: the value is always 1, the facts are labels.
    s.families
        .add("nodeagent_node_info", "Node name and kernel release; value is always 1.",
             metrics::Type::kGauge)
        .add(labels_, std::uint64_t{1});
  }

 private:
  const HostRoot& procfs_;
  std::optional<std::string> release_;
  metrics::Text labels_;  // node_name is the agent's, fixed for its life
};

}  // namespace

Result<std::unique_ptr<Source>> make_kernel_source(const SourceOptions& o) {
  return std::make_unique<KernelSource>(o);
}

}  // namespace nodeagent::nodeinfo
