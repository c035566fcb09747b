#pragma once
// The one writer: a thread that samples the host every interval, renders every representation
// once, and publishes the bundle (Board) and the stream event (Feed). Requests never wait on it.
//
// A read can get stuck in the kernel (a hung network filesystem under a misconfigured root) and
// a thread stuck there cannot be cancelled. So the loop never waits for a sample without a bound:
// start() waits at most `first_sample_wait` for the first one, stop() at most `stop_wait`; a
// thread still inside a sample then is abandoned (detached) and never touches the Board, the
// Feed or the callbacks again. The Heartbeat shows /healthz how long the current sample has run.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/published.h"
#include "clock/clock.h"
#include "http/feed.h"
#include "nodeagent/error.h"
#include "nodeinfo/sampler.h"

namespace nodeagent::agent {

// Renders the agent's own metrics; called on the sampling thread after each sample.
using SelfMetrics = std::function<std::string(const nodeinfo::Snapshot&, double sample_seconds)>;
// Takes one snapshot (in production a Sampler's sample()).
using SampleFn = std::function<nodeinfo::Snapshot()>;

// Builds the bundle for one snapshot: pure, so tests check it without threads.
std::shared_ptr<const Published> publish_snapshot(nodeinfo::Snapshot snapshot,
                                                  std::chrono::steady_clock::time_point now,
                                                  const std::string& self_metrics);

// When the next sample is due: fixed rate from `scheduled`; after a stall (suspend, overload)
// the missed ticks are skipped instead of run in a burst.
std::chrono::steady_clock::time_point next_tick(std::chrono::steady_clock::time_point scheduled,
                                                std::chrono::steady_clock::time_point now,
                                                std::chrono::milliseconds interval);

struct SamplingOptions {
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds first_sample_wait{1000};  // start() waits at most this long
  std::chrono::milliseconds stop_wait{2000};          // stop() waits at most this long
};

// Thread-safety: start(), stop() and sample_once() from one controlling thread; heartbeat()
// from any. The Board, Feed and callbacks must outlive the SamplingLoop (not an abandoned
// thread: that touches none of them again).
class SamplingLoop {
 public:
  SamplingLoop(SampleFn sample, SamplingOptions options, Board& board,
               std::shared_ptr<http::Feed> feed, SelfMetrics self_metrics,
               std::shared_ptr<Heartbeat> heartbeat = std::make_shared<Heartbeat>(),
               const Clock& clock = real_clock());
  // The usual case: a Sampler (moved in) sampled every `interval`.
  SamplingLoop(nodeinfo::Sampler sampler, std::chrono::milliseconds interval, Board& board,
               std::shared_ptr<http::Feed> feed, SelfMetrics self_metrics,
               std::shared_ptr<Heartbeat> heartbeat = std::make_shared<Heartbeat>());
  ~SamplingLoop();
  SamplingLoop(const SamplingLoop&) = delete;
  SamplingLoop& operator=(const SamplingLoop&) = delete;

  // Starts the thread, which samples at once and then every interval, and waits (at most
  // first_sample_wait) for that first sample to be published. Fails with the errno of thread
  // creation (typically EAGAIN: RLIMIT_NPROC, a container's pids limit); then nothing runs.
  Result<void> start();
  // Wakes and joins the thread: true. False when it was still inside a sample after stop_wait:
  // it is abandoned (detached), and the caller should end the process soon, without running
  // destructors of what the sample function reads (see Agent::run).
  bool stop();
  // Wakes the thread to re-read the clock (tests with a ManualClock, after advance()).
  void recheck();

  // Samples and publishes once on the calling thread (tests; not while the thread runs).
  void sample_once();

  const std::shared_ptr<Heartbeat>& heartbeat() const { return heartbeat_; }
  std::uint64_t samples_published() const;

 private:
  struct State;
  static void run(std::shared_ptr<State> state);
  // After a sample: false when the loop was abandoned meanwhile (then nothing outside the State
  // may be touched), else marks a publish in progress, which publish() ends.
  static bool claim(State& state);
  static void publish(State& state, nodeinfo::Snapshot snapshot,
                      std::chrono::steady_clock::time_point started, double seconds);

  std::shared_ptr<State> state_;
  std::shared_ptr<Heartbeat> heartbeat_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace nodeagent::agent
