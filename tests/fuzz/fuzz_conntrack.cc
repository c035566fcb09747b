// libFuzzer: nodeinfo::parse_conntrack_stat and parse_conntrack_max on arbitrary bytes.
#include "fuzz_util.h"
#include "nodeinfo/sources/conntrack.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  const std::string_view text = fuzz::as_view(data, size);
  auto r = nodeinfo::parse_conntrack_stat(text);
  fuzz::check_error(r);
  if (r) {
    fuzz::check(r->cpu_lines >= 1 && r->cpu_lines <= nodeinfo::kMaxConntrackCpuLines,
                "cpu line count out of bounds");
    fuzz::check(r->entries <= 0xffffffffu, "entries beyond 32 bits");
    for (const auto& stat : r->stats) {
      fuzz::check(!stat || *stat <= std::uint64_t{0xffffffff} * r->cpu_lines,
                  "sum larger than its lines allow");
    }
  }
  fuzz::check_error(nodeinfo::parse_conntrack_max(text));
  return 0;
}
