// libFuzzer: nodeinfo::parse_os_release and os_version_number on arbitrary bytes.
#include <cmath>

#include "fuzz_util.h"
#include "nodeinfo/sources/os.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  const std::string_view text = fuzz::as_view(data, size);
  auto r = nodeinfo::parse_os_release(text);
  fuzz::check_error(r);
  if (r) {
    for (const auto& [key, value] : r->values) {
      fuzz::check(!key.empty() && key.find('=') == std::string::npos, "bad key accepted");
      fuzz::check(value.find('\n') == std::string::npos, "value spans lines");
      fuzz::check(value.size() <= text.size(), "value longer than the input");
    }
  }
  if (auto v = nodeinfo::os_version_number(text)) fuzz::check_number(*v, "version number");
  return 0;
}
