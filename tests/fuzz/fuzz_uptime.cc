// libFuzzer: nodeinfo::parse_uptime on arbitrary bytes.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  auto r = nodeinfo::parse_uptime(fuzz::as_view(data, size));
  fuzz::check_error(r);
  if (r) {
    fuzz::check_number(r->uptime_seconds, "uptime");
    fuzz::check_number(r->idle_seconds, "idle");
  }
  return 0;
}
