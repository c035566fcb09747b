#pragma once
// The time source everything that stamps or schedules takes (Envoy's TimeSource idea): the real
// clocks in production, a ManualClock in tests so they advance time instead of sleeping and can
// assert exact timestamps.
//
// Thread-safety: both implementations may be read from any thread; ManualClock::advance/set
// may be called concurrently with reads.

#include <atomic>
#include <chrono>

namespace nodeagent {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time: what a snapshot is stamped with.
  virtual std::chrono::system_clock::time_point system_now() const = 0;
  // Monotonic time: schedules, ages and stall detection.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

// The process's real clocks; lives for the whole program.
const Clock& real_clock();

// Starts at the given instants and moves only when told to; both clocks move together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point system_start =
                           std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)),
                       std::chrono::steady_clock::time_point steady_start =
                           std::chrono::steady_clock::time_point(std::chrono::hours(1)))
      : system_start_(system_start), steady_start_(steady_start) {}

  std::chrono::system_clock::time_point system_now() const override {
    return system_start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::nanoseconds(elapsed_ns_.load()));
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return steady_start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::nanoseconds(elapsed_ns_.load()));
  }
  void advance(std::chrono::nanoseconds by) { elapsed_ns_ += by.count(); }

 private:
  std::chrono::system_clock::time_point system_start_;
  std::chrono::steady_clock::time_point steady_start_;
  std::atomic<std::chrono::nanoseconds::rep> elapsed_ns_{0};
};

}  // namespace nodeagent
