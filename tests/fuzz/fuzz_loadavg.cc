// libFuzzer: nodeinfo::parse_loadavg on arbitrary bytes.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  auto r = nodeinfo::parse_loadavg(fuzz::as_view(data, size));
  fuzz::check_error(r);
  if (r) {
    fuzz::check_number(r->load1, "load1");
    fuzz::check_number(r->load5, "load5");
    fuzz::check_number(r->load15, "load15");
  }
  return 0;
}
