#include "nodeinfo/sampler.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "nodeagent/printable.h"

namespace nodeagent::nodeinfo {
std::optional<CpuUtilisation> cpu_utilisation(const CpuJiffies& previous,
                                              const CpuJiffies& current) {
  CpuJiffies delta{};
  std::uint64_t elapsed = 0;
  for (std::size_t m = 0; m < kCpuModeCount; ++m) {
    delta[m] = current[m] >= previous[m] ? current[m] - previous[m] : 0;
    if (m < kCpuDisjointModeCount) elapsed += delta[m];
  }
  if (elapsed == 0) return std::nullopt;
  // Guest time is part of user/nice; clamping keeps the fractions consistent if the two
  // counters were read at slightly different moments.
  delta[static_cast<std::size_t>(CpuMode::kGuest)] =
      std::min(delta[static_cast<std::size_t>(CpuMode::kGuest)],
               delta[static_cast<std::size_t>(CpuMode::kUser)]);
  delta[static_cast<std::size_t>(CpuMode::kGuestNice)] =
      std::min(delta[static_cast<std::size_t>(CpuMode::kGuestNice)],
               delta[static_cast<std::size_t>(CpuMode::kNice)]);
  CpuUtilisation out{};
  const auto total = static_cast<double>(elapsed);
  for (std::size_t m = 0; m < kCpuModeCount; ++m) out[m] = static_cast<double>(delta[m]) / total;
  return out;
}

Sampler::Sampler(const HostFs& fs, std::string node_name)
    : Sampler(fs, std::move(node_name), ::sysconf(_SC_CLK_TCK)) {}

Sampler::Sampler(const HostFs& fs, std::string node_name, long clk_tck, const Clock& clock)
    : Sampler(SourceOptions{{}, fs, clock, clk_tck > 0 ? clk_tck : 100, std::move(node_name)}, {}) {
}

Sampler::Sampler(const SourceOptions& options, const SourceSelection& selection)
    : clock_(&options.clock), node_name_(options.node_name) {
  auto named = [](const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  for (const SourceInfo& info : all_sources()) {
    const bool on = info.default_on ? !named(selection.disabled, info.name)
                                    : named(selection.enabled, info.name);
    if (!on) continue;
    auto made = info.make(options);
    if (!made) {
      skipped_.push_back(std::string(info.name) + ": " + made.error().detail);
      continue;
    }
    sources_.push_back(std::move(*made));
    running_.emplace_back(info.name);
  }
  buf_.reserve(16 * 1024);
}

Sampler::Sampler(std::string node_name, const Clock& clock,
                 std::vector<std::pair<std::string, std::unique_ptr<Source>>> sources)
    : clock_(&clock), node_name_(std::move(node_name)) {
  for (auto& [name, source] : sources) {
    running_.push_back(std::move(name));
    sources_.push_back(std::move(source));
  }
}

Snapshot Sampler::sample() {
  Snapshot snap;
  snap.node_name = node_name_;
  snap.taken_at = clock_->system_now();
  snap.families.reserve(families_seen_);
  SampleContext ctx{snap.taken_at, clock_->steady_now(), buf_, snap};
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    // A source that throws (an allocation failure on a huge file) loses its own readings for
    // this sample, not the agent: the sampling thread must go on.
    try {
      sources_[i]->sample(ctx);
    } catch (const std::exception& e) {
      snap.errors.push_back(running_[i] + ": " + printable(e.what()));
    }
  }
  if (buf_.capacity() > kKeepBuffer) std::string().swap(buf_);  // a huge file was read once
  families_seen_ = snap.families.families().size();
  return snap;
}

}  // namespace nodeagent::nodeinfo
