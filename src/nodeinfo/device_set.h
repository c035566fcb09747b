#pragma once
// What the per-device sources (diskstats, netdev) share: the devices of the last file that the
// exclude regex keeps, in name order, with each one's counters of the previous sample and its
// `device="..."` label block. The regex runs and the blocks are made only when the file's device
// names change, not every sample.
//
// Thread-safety: none; one source (on the sampler thread) owns it.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/family.h"

namespace nodeagent::nodeinfo {

// Per second from two readings of a counter; none when it went backwards or no time passed.
inline std::optional<double> rate(std::uint64_t before, std::uint64_t now, double seconds) {
  if (seconds <= 0 || now < before) return std::nullopt;
  return static_cast<double>(now - before) / seconds;
}

// The line of `errors` for device lines a parser left out: the rest is served, so say so.
inline std::string left_out_reason(std::size_t lines) {
  return std::to_string(lines) + " lines left out (a name that cannot be a label, or repeated)";
}

template <class Counters>
class DeviceSet {
 public:
  struct Kept {
    std::size_t line = 0;  // index into the parsed devices
    std::string device;
    std::optional<Counters> previous;  // the last sample's, for rates
  };

  explicit DeviceSet(std::regex exclude) : exclude_(std::move(exclude)) {}

  // `lines` are the parsed devices in file order, each with a `device` name. True when the set
  // was rebuilt (the names changed): then the caller remakes what it derives from kept().
  template <class Line>
  bool update(const std::vector<Line>& lines) {
    if (std::equal(lines.begin(), lines.end(), names_.begin(), names_.end(),
                   [](const Line& l, const std::string& n) { return l.device == n; })) {
      return false;
    }
    std::vector<Kept> old = std::move(kept_);
    kept_.clear();
    names_.clear();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string& device = lines[i].device;
      names_.push_back(device);
      if (!std::regex_search(device, exclude_))
        kept_.push_back(Kept{i, device, previous_of(old, device)});
    }
    std::sort(kept_.begin(), kept_.end(),
              [](const Kept& a, const Kept& b) { return a.device < b.device; });
    std::vector<std::string> labels;
    labels.reserve(kept_.size());
    for (const Kept& k : kept_) labels.push_back(metrics::labels({{"device", k.device}}));
    labels_ = metrics::LabelBlocks(std::move(labels));
    return true;
  }

  std::vector<Kept>& kept() { return kept_; }
  const std::vector<Kept>& kept() const { return kept_; }
  // device="...", one block per kept() entry.
  const metrics::LabelBlocks& labels() const { return labels_; }

  // Seconds since the previous call (0 on the first), on the steady clock.
  double elapsed(std::chrono::steady_clock::time_point now) {
    const double out =
        previous_time_ ? std::chrono::duration<double>(now - *previous_time_).count() : 0;
    previous_time_ = now;
    return out;
  }

 private:
  static std::optional<Counters> previous_of(const std::vector<Kept>& old,
                                             std::string_view device) {
    auto it = std::lower_bound(old.begin(), old.end(), device,
                               [](const Kept& k, std::string_view d) { return k.device < d; });
    if (it == old.end() || it->device != device) return std::nullopt;
    return it->previous;
  }

  std::regex exclude_;
  std::vector<std::string> names_;  // every device of the last file, in file order
  std::vector<Kept> kept_;
  metrics::LabelBlocks labels_;
  std::optional<std::chrono::steady_clock::time_point> previous_time_;
};

}  // namespace nodeagent::nodeinfo
