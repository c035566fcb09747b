// libFuzzer: nodeinfo::parse_mountinfo on arbitrary bytes.
#include "fuzz_util.h"
#include "nodeinfo/sources/filesystem.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  auto r = nodeinfo::parse_mountinfo(fuzz::as_view(data, size));
  fuzz::check_error(r);
  if (!r) return 0;
  fuzz::check(!r->mounts.empty(), "a table without mounts");
  fuzz::check(r->mounts.size() <= nodeinfo::kMaxMounts, "more than kMaxMounts");
  fuzz::check(r->first_skip.find('\n') == std::string::npos, "skip reason spans lines");
  fuzz::check((r->skipped_lines == 0) == r->first_skip.empty(), "skip count and reason disagree");
  for (const nodeinfo::MountEntry& m : r->mounts) {
    fuzz::check(!m.mountpoint.empty() && m.mountpoint.front() == '/', "relative mount point");
    fuzz::check(m.mountpoint.size() <= nodeinfo::kMaxMountPath, "mount point too long");
    fuzz::check(!m.fstype.empty() && !m.device.empty(), "empty type or device");
  }
  return 0;
}
