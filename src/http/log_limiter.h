#pragma once
// At most one log line per interval for an event that a client can trigger at will (a refused
// client, a full connection table), with the number of events the line stands for. The clock is
// passed in, so tests step it. Thread-safe (lock-free); every event is counted exactly once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

namespace nodeagent::http {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogLimiter(Clock::duration interval) : interval_(interval) {}

  // Counts one event at `now`. Returns 0 when no line is due, else the number of events the
  // line due now reports (this one and those swallowed since the previous line).
  std::uint64_t count(Clock::time_point now) {
    pending_.fetch_add(1, std::memory_order_relaxed);
    auto due = next_.load(std::memory_order_relaxed);
    const auto t = now.time_since_epoch().count();
    if (t < due) return 0;
    if (!next_.compare_exchange_strong(due, t + interval_.count())) return 0;
    return pending_.exchange(0, std::memory_order_relaxed);
  }

 private:
  const Clock::duration interval_;
  std::atomic<std::uint64_t> pending_{0};
  std::atomic<Clock::rep> next_{std::numeric_limits<Clock::rep>::min()};
};

}  // namespace nodeagent::http
