// libFuzzer: nodeinfo::parse_file_nr (/proc/sys/fs/file-nr) on arbitrary bytes.
#include "fuzz_util.h"
#include "nodeinfo/sources/filefd.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  auto r = nodeinfo::parse_file_nr(fuzz::as_view(data, size));
  fuzz::check_error(r);
  return 0;
}
