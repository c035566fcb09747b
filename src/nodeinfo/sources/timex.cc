// adjtimex(2) with modes 0: the kernel's clock discipline (NTP/PPS state). Read-only, so it
// needs no capability; the time namespace does not change it, so a pod sees the host's.
#include "nodeinfo/sources/timex.h"

#include <sys/timex.h>

#include <cerrno>

namespace nodeagent::nodeinfo {
namespace {

static_assert(kTimeError == TIME_ERROR);
static_assert(kStaNano == STA_NANO);

Result<Timex> read_adjtimex() {
  struct timex tx {};
  tx.modes = 0;  // read only
  const int state = ::adjtimex(&tx);
  if (state < 0) return Error{{errno, boost::system::system_category()}, "adjtimex(2)"};
  return Timex{state,       tx.offset, tx.freq,    tx.maxerror, tx.esterror, tx.status,
               tx.constant, tx.tick,   tx.ppsfreq, tx.jitter,   tx.shift,    tx.stabil,
               tx.jitcnt,   tx.calcnt, tx.errcnt,  tx.stbcnt,   tx.tai};
}

// freq, ppsfreq and stabil are parts per million with 16 fractional bits.
constexpr double kScaledPpm = 1e6 * 65536;

class TimexSource final : public Source {
 public:
  explicit TimexSource(TimexReader read) : read_(std::move(read)) {}

  void sample(SampleContext& ctx) override {
    auto tx = read_();
    if (!tx) return ctx.snap.errors.push_back("adjtimex: " + tx.error().code.message());
    add_families(*tx, ctx.snap.families);
  }

 private:
  static void add_families(const Timex& t, metrics::FamilySet& f) {
    const double per_second = (t.status & kStaNano) != 0 ? 1e9 : 1e6;
    auto gauge = [&f](metrics::Text name, metrics::Text help, auto v) {
      f.gauge(std::move(name), std::move(help), std::optional(v));
    };
    auto counter = [&f](metrics::Text name, metrics::Text help, auto v) {
      f.counter(std::move(name), std::move(help), std::optional(v));
    };
    gauge("node_timex_offset_seconds", "Time offset between local clock and reference.",
          static_cast<double>(t.offset) / per_second);
    gauge("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment (ratio).",
          1 + static_cast<double>(t.freq) / kScaledPpm);
    gauge("node_timex_maxerror_seconds", "Maximum error estimate of the clock.",
          static_cast<double>(t.maxerror) / 1e6);
    gauge("node_timex_estimated_error_seconds", "Estimated error of the clock.",
          static_cast<double>(t.esterror) / 1e6);
    gauge("node_timex_status", "Clock status bits (STA_*).", t.status);
    gauge("node_timex_loop_time_constant", "Phase-locked loop time constant.", t.constant);
    gauge("node_timex_tick_seconds", "Time between clock ticks.",
          static_cast<double>(t.tick) / 1e6);
    gauge("node_timex_pps_frequency_hertz", "Pulse-per-second frequency offset.",
          static_cast<double>(t.ppsfreq) / kScaledPpm);
    gauge("node_timex_pps_jitter_seconds", "Pulse-per-second jitter.",
          static_cast<double>(t.jitter) / per_second);
    gauge("node_timex_pps_shift_seconds", "Pulse-per-second calibration interval (log2 s).",
          t.shift);
    gauge("node_timex_pps_stability_hertz", "Pulse-per-second stability.",
          static_cast<double>(t.stabil) / kScaledPpm);
    counter("node_timex_pps_jitter_total", "Pulse-per-second jitter limit exceeded events.",
            t.jitcnt);
    counter("node_timex_pps_calibration_total", "Pulse-per-second calibration intervals.",
            t.calcnt);
    counter("node_timex_pps_error_total", "Pulse-per-second calibration errors.", t.errcnt);
    counter("node_timex_pps_stability_exceeded_total",
            "Pulse-per-second stability limit exceeded events.", t.stbcnt);
    gauge("node_timex_tai_offset_seconds", "International Atomic Time offset from UTC.", t.tai);
    gauge("node_timex_sync_status", "Whether the clock is synchronised (1) or not (0).",
          std::uint64_t{t.state == kTimeError ? 0u : 1u});
  }

  TimexReader read_;
};

}  // namespace

std::unique_ptr<Source> make_timex_source_with(TimexReader read) {
  return std::make_unique<TimexSource>(std::move(read));
}

Result<std::unique_ptr<Source>> make_timex_source(const SourceOptions&) {
  return make_timex_source_with(read_adjtimex);
}

}  // namespace nodeagent::nodeinfo
