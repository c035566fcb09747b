// libFuzzer: nodeinfo::parse_netdev on arbitrary bytes.
#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>

#include "fuzz_util.h"
#include "nodeinfo/sources/netdev.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nodeagent;
  const std::string_view text = fuzz::as_view(data, size);
  auto r = nodeinfo::parse_netdev(text);
  fuzz::check_error(r);
  if (!r) return 0;
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  fuzz::check(lines >= 2, "accepted without the two header lines");
  fuzz::check(r->devices.size() + r->skipped == lines - 2, "a line neither kept nor skipped");
  fuzz::check(r->devices.size() <= nodeinfo::kMaxNetDevices, "too many devices");
  std::unordered_set<std::string> names;
  for (const nodeinfo::NetDevLine& d : r->devices) {
    fuzz::check(!d.device.empty() && d.device.size() <= nodeinfo::kMaxNetDeviceNameLength,
                "device name length");
    for (char c : d.device) {
      fuzz::check(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-',
                  "device name character");
    }
    fuzz::check(names.insert(d.device).second, "repeated device name");
  }
  return 0;
}
