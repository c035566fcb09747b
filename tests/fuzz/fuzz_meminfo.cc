// libFuzzer: nodeinfo::parse_meminfo on arbitrary bytes.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  auto r = nodeinfo::parse_meminfo(fuzz::as_view(data, size));
  fuzz::check_error(r);
  if (r) {
    fuzz::check(r->mem_total.has_value() && r->mem_free.has_value(), "required fields missing");
  }
  return 0;
}
