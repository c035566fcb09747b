// uname(2), read once: the kernel a pod shares with its node. nodename is the node's name (the
// pod's own UTS nodename is the pod's), as node_exporter on the host would report it.
#include <sys/utsname.h>

#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

class UnameSource final : public Source {
 public:
  explicit UnameSource(metrics::Text labels) : labels_(std::move(labels)) {}

  void sample(SampleContext& ctx) override {
    ctx.snap.families
        .add("node_uname_info", "Labeled system information as provided by the uname system call.",
             metrics::Type::kGauge)
        .add(labels_, std::uint64_t{1});
  }

 private:
  metrics::Text labels_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_uname_source(const SourceOptions& o) {
  struct utsname u {};
  if (::uname(&u) != 0) {
    return Error{{errno, boost::system::system_category()}, "uname(2)"};
  }
  return std::make_unique<UnameSource>(metrics::labels({{"domainname", u.domainname},
                                                        {"machine", u.machine},
                                                        {"nodename", o.node_name},
                                                        {"release", u.release},
                                                        {"sysname", u.sysname},
                                                        {"version", u.version}}));
}

}  // namespace nodeagent::nodeinfo
