// libFuzzer: nodeinfo::parse_diskstats on arbitrary bytes.
#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>

#include "fuzz_util.h"
#include "nodeinfo/sources/diskstats.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  const std::string_view text = fuzz::as_view(data, size);
  auto r = nodeinfo::parse_diskstats(text);
  fuzz::check_error(r);
  if (!r) return 0;
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  fuzz::check(r->devices.size() + r->skipped == lines, "a line neither kept nor skipped");
  fuzz::check(r->devices.size() <= nodeinfo::kMaxDisks, "too many devices");
  std::unordered_set<std::string> names;
  for (const nodeinfo::DiskStatsLine& d : r->devices) {
    fuzz::check(d.fields >= nodeinfo::kMinDiskStatFields && d.fields <= nodeinfo::kDiskStatFields,
                "stat field count out of range");
    fuzz::check(!d.device.empty() && d.device.size() <= nodeinfo::kMaxDiskNameLength,
                "device name length");
    for (char c : d.device) {
      fuzz::check(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
                      c == '-',
                  "device name character");
    }
    fuzz::check(names.insert(d.device).second, "repeated device name");
  }
  return 0;
}
