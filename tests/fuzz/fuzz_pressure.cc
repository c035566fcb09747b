// libFuzzer: nodeinfo::parse_pressure on arbitrary bytes.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  auto r = nodeinfo::parse_pressure(fuzz::as_view(data, size));
  fuzz::check_error(r);
  if (r) {
    for (const auto* s : {&r->some, r->full ? &*r->full : nullptr}) {
      if (s == nullptr) continue;
      fuzz::check_number(s->avg10, "avg10");
      fuzz::check_number(s->avg60, "avg60");
      fuzz::check_number(s->avg300, "avg300");
    }
  }
  return 0;
}
