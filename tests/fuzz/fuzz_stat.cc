// libFuzzer: nodeinfo::parse_stat on arbitrary bytes, with the common and an unusual USER_HZ.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  for (long clk_tck : {100L, 1000L}) {
    auto r = nodeinfo::parse_stat(fuzz::as_view(data, size), clk_tck);
    fuzz::check_error(r);
    if (!r) continue;
    for (double s : r->total.seconds) fuzz::check_number(s, "cpu seconds");
    for (std::size_t i = 1; i < r->cpus.size(); ++i) {
      fuzz::check(r->cpus[i - 1].cpu < r->cpus[i].cpu, "per-cpu lines out of order");
    }
  }
  return 0;
}
