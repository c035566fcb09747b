// The system clock at sampling time, the process's time zone, and the kernel's clocksources
// (<sysfs>/devices/system/clocksource/clocksourceN/{available,current}_clocksource).
#include <algorithm>
#include <ctime>

#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

// Whole and fractional seconds converted separately: a 64-bit nanosecond count does not fit a
// double exactly, and converting it in one step prints 1716200000.2499998 for ...0.25.
double unix_seconds(std::chrono::system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(ns);
  return static_cast<double>(secs.count()) + static_cast<double>((ns - secs).count()) / 1e9;
}

// A kernel has one clocksource device per timekeeping hardware; x86 has one, a few boards two.
constexpr unsigned kMaxClocksources = 4;

class TimeSource final : public Source {
 public:
  explicit TimeSource(const SourceOptions& o) {
    for (unsigned n = 0; n < kMaxClocksources; ++n) {
      const std::string dir = "devices/system/clocksource/clocksource" + std::to_string(n) + "/";
      devices_.push_back(Device{std::to_string(n),
                                KeptFile(o.fs.sysfs, dir + "available_clocksource"),
                                KeptFile(o.fs.sysfs, dir + "current_clocksource")});
    }
  }

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    s.families.gauge("node_time_seconds", "System time in seconds since epoch (1970).",
                     std::optional(unix_seconds(ctx.now)));
    const std::time_t t = std::chrono::system_clock::to_time_t(ctx.now);
    std::tm local{};
    if (::localtime_r(&t, &local) != nullptr && local.tm_zone != nullptr) {
      s.families
          .add("node_time_zone_offset_seconds", "System time zone offset in seconds.",
               metrics::Type::kGauge)
          .add({{"time_zone", local.tm_zone}}, static_cast<std::int64_t>(local.tm_gmtoff));
    }
    metrics::Family available{"node_time_clocksource_available_info",
                              "Available clocksources read from '/sys/devices/system/clocksource'.",
                              metrics::Type::kGauge,
                              {}};
    metrics::Family current{"node_time_clocksource_current_info",
                            "Current clocksource read from '/sys/devices/system/clocksource'.",
                            metrics::Type::kGauge,
                            {}};
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      Device& d = devices_[i];
      if (auto r = d.available.read(ctx.buf); !r) {
        // Devices are numbered from 0 without gaps: the first missing one ends the list, for
        // good (the kernel registers its clocksource devices at boot; Linux has clocksource0
        // only), so that no sample pays for a failing path lookup.
        if (r.error().code == boost::system::errc::no_such_file_or_directory) {
          devices_.erase(devices_.begin() + static_cast<std::ptrdiff_t>(i), devices_.end());
        } else {
          s.errors.push_back(d.available.reason(r.error().code.message()));
        }
        break;
      }
      for (std::string_view word : words(ctx.buf)) {
        available.add({{"clocksource", word}, {"device", d.index}}, std::uint64_t{1});
      }
      if (!d.current.read(ctx.buf, s.errors)) continue;
      for (std::string_view word : words(ctx.buf)) {
        current.add({{"clocksource", word}, {"device", d.index}}, std::uint64_t{1});
      }
    }
    s.families.add(std::move(available));
    s.families.add(std::move(current));
  }

 private:
  struct Device {
    std::string index;
    KeptFile available, current;
  };

  // Clocksource names are short identifiers ("tsc", "hpet", "acpi_pm"); anything else is skipped.
  static std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
      std::size_t j = i;
      while (j < text.size() && text[j] != ' ' && text[j] != '\n') ++j;
      std::string_view w = text.substr(i, j - i);
      const bool plain =
          !w.empty() && w.size() <= 64 && std::all_of(w.begin(), w.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                   c == '.' || (c >= 'A' && c <= 'Z');
          });
      if (plain && out.size() < 16) out.push_back(w);
      i = j;
    }
    return out;
  }

  std::vector<Device> devices_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_time_source(const SourceOptions& o) {
  return std::make_unique<TimeSource>(o);
}

}  // namespace nodeagent::nodeinfo
