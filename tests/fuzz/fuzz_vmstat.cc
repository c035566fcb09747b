// libFuzzer: nodeinfo::parse_vmstat on arbitrary bytes.
#include <algorithm>

#include "fuzz_util.h"
#include "nodeinfo/sources/vmstat.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  const std::string_view text = fuzz::as_view(data, size);
  auto r = nodeinfo::parse_vmstat(text);
  fuzz::check_error(r);
  if (!r) return 0;
  fuzz::check(r->lines.size() <= nodeinfo::kMaxVmstatLines, "too many lines kept");
  for (const nodeinfo::VmstatLine& line : r->lines) {
    fuzz::check(!line.name.empty() && line.name.size() <= nodeinfo::kMaxVmstatNameSize,
                "name size out of bounds");
    fuzz::check(std::all_of(line.name.begin(), line.name.end(),
                            [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                            }),
                "name outside [a-z0-9_]");
    fuzz::check(line.name.data() >= text.data() &&
                    line.name.data() + line.name.size() <= text.data() + text.size(),
                "name does not view the input");
  }
  for (std::size_t i = 0; i < r->lines.size(); ++i) {
    for (std::size_t j = i + 1; j < r->lines.size(); ++j) {
      fuzz::check(r->lines[i].name != r->lines[j].name, "duplicate name kept");
    }
  }
  return 0;
}
