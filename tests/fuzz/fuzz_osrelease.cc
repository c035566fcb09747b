// libFuzzer: nodeinfo::parse_osrelease on arbitrary bytes.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  auto r = nodeinfo::parse_osrelease(fuzz::as_view(data, size));
  fuzz::check_error(r);
  if (r) {
    fuzz::check(!r->empty(), "empty release accepted");
    for (char c : *r) {
      fuzz::check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control character kept");
    }
  }
  return 0;
}
