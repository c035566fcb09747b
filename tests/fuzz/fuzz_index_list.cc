// libFuzzer: nodeinfo::parse_index_list (sysfs node/cpu lists) on arbitrary bytes.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  const std::string_view text = fuzz::as_view(data, size);
  auto r = nodeinfo::parse_index_list(text);
  fuzz::check_error(r);
  if (r && text.size() > 1) fuzz::check(*r >= 1, "non-empty list counted as empty");
  // Indexes are bounded by 2^20 and strictly ascending, so no list names more than 2^20 + 1.
  if (r) fuzz::check(*r <= (1u << 20) + 1, "more indexes than the bound allows");
  return 0;
}
