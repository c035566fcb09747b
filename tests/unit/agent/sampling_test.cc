#include "agent/sampling.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace nodeagent::agent {
namespace {

using namespace std::chrono_literals;

nodeinfo::Snapshot snapshot_at(const Clock& clock) {
  nodeinfo::Snapshot s;
  s.node_name = "n1";
  s.taken_at = clock.system_now();
  return s;
}

// A sample function that blocks until released, like a read stuck in the kernel.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  bool entered = false;
  void wait() {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [this] { return open; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
  void wait_entered() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [this] { return entered; });
  }
};

TEST(NextTick, FixedRateAndSkipsMissedTicks) {
  const std::chrono::steady_clock::time_point t0(10s);
  EXPECT_EQ(next_tick(t0, t0 + 5ms, 1000ms), t0 + 1000ms);
  EXPECT_EQ(next_tick(t0, t0 + 999ms, 1000ms), t0 + 1000ms);
  EXPECT_EQ(next_tick(t0, t0 + 3500ms, 1000ms), t0 + 4500ms);  // after a stall: no burst
}

TEST(SamplingLoop, SampleOncePublishesWithTheClocksTimes) {
  ManualClock clock;
  Board board;
  auto heartbeat = std::make_shared<Heartbeat>();
  SamplingLoop loop([&clock] { return snapshot_at(clock); }, {}, board, nullptr, nullptr, heartbeat,
                    clock);
  loop.sample_once();
  auto first = board.current();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->sampled_at, clock.steady_now());
  EXPECT_EQ(first->snapshot->taken_at, clock.system_now());
  EXPECT_FALSE(heartbeat->busy_since());
  clock.advance(1500ms);
  loop.sample_once();
  EXPECT_EQ(board.current()->sampled_at - first->sampled_at, 1500ms);
  EXPECT_EQ(loop.samples_published(), 2u);
}

TEST(SamplingLoop, ThreadSamplesAtStartAndWhenTheClockReachesTheNextTick) {
  ManualClock clock;
  Board board;
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  SamplingLoop loop(
      [&] {
        std::lock_guard lock(m);
        ++calls;
        cv.notify_all();
        return snapshot_at(clock);
      },
      {.interval = 1000ms, .first_sample_wait = 10s, .stop_wait = 10s}, board, nullptr, nullptr,
      std::make_shared<Heartbeat>(), clock);
  ASSERT_TRUE(loop.start());  // returns once the first sample is published
  ASSERT_EQ(loop.samples_published(), 1u);
  EXPECT_EQ(board.current()->sampled_at, clock.steady_now());
  clock.advance(1000ms);
  loop.recheck();
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return calls >= 2; }));
  }
  EXPECT_TRUE(loop.stop());
}

// A sample stuck forever: /healthz sees how long it has run, and stop() gives up after its
// budget instead of joining a blocked thread.
TEST(SamplingLoop, StuckSampleShowsInTheHeartbeatAndStopGivesUp) {
  ManualClock clock;
  Board board;
  auto gate = std::make_shared<Gate>();
  auto heartbeat = std::make_shared<Heartbeat>();
  auto loop = std::make_unique<SamplingLoop>(
      [gate, &clock] {
        gate->wait();
        return nodeinfo::Snapshot{};
      },
      SamplingOptions{.interval = 1000ms, .first_sample_wait = 1ms, .stop_wait = 20ms}, board,
      nullptr, nullptr, heartbeat, clock);
  const auto started = clock.steady_now();
  ASSERT_TRUE(loop->start());
  gate->wait_entered();
  EXPECT_FALSE(board.current());
  ASSERT_TRUE(heartbeat->busy_since());
  EXPECT_EQ(*heartbeat->busy_since(), started);
  EXPECT_FALSE(loop->stop());
  loop.reset();
  gate->release();  // the abandoned thread returns and touches nothing outside its own state
  EXPECT_FALSE(board.current());
}

}  // namespace
}  // namespace nodeagent::agent
