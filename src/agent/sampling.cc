#include "agent/sampling.h"

#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "log/log.h"
#include "render/json.h"
#include "render/prometheus.h"
#include "render/text.h"

namespace nodeagent::agent {

std::shared_ptr<const Published> publish_snapshot(nodeinfo::Snapshot snapshot,
                                                  std::chrono::steady_clock::time_point now,
                                                  const std::string& self_metrics) {
  auto out = std::make_shared<Published>();
  out->sampled_at = now;
  if (auto text = render::render_text(snapshot)) {
    out->ok = true;
    out->text = std::move(*text);
  } else {
    out->unavailable = text.error().detail;  // the 503 body: "node info unavailable: ..."
    if (out->unavailable.empty() || out->unavailable.back() != '\n') out->unavailable += '\n';
  }
  out->json = render::render_json(snapshot);
  out->metrics = render::render_prometheus(snapshot);
  out->metrics += self_metrics;
  out->snapshot = std::make_shared<const nodeinfo::Snapshot>(std::move(snapshot));
  return out;
}

std::chrono::steady_clock::time_point next_tick(std::chrono::steady_clock::time_point scheduled,
                                                std::chrono::steady_clock::time_point now,
                                                std::chrono::milliseconds interval) {
  auto next = scheduled + interval;
  if (next <= now) next = now + interval;
  return next;
}

// Everything the thread touches, shared with it so that an abandoned thread keeps its own
// objects alive. Board, Feed and callbacks are used only while `abandoned` is false, and stop()
// sets it only while no publish is running.
struct SamplingLoop::State {
  State(SampleFn sample_fn, SamplingOptions opts, Board& b, std::shared_ptr<http::Feed> f,
        SelfMetrics self, std::shared_ptr<Heartbeat> beat, const Clock& c)
      : sample(std::move(sample_fn)),
        options(opts),
        board(b),
        feed(std::move(f)),
        self_metrics(std::move(self)),
        heartbeat(std::move(beat)),
        clock(c) {}

  SampleFn sample;
  SamplingOptions options;
  Board& board;
  std::shared_ptr<http::Feed> feed;
  SelfMetrics self_metrics;
  std::shared_ptr<Heartbeat> heartbeat;
  const Clock& clock;
  // Only the publishing thread touches these (one at a time: the loop thread, or sample_once).
  std::vector<std::string> last_errors;
  bool ever_ok = false;

  std::mutex mutex;
  std::condition_variable wake;     // stop() and recheck() -> the thread
  std::condition_variable changed;  // the thread -> start() and stop()
  bool stopping = false;
  bool rechecked = false;
  bool abandoned = false;
  bool publishing = false;
  bool exited = false;
  std::uint64_t published = 0;
};

SamplingLoop::SamplingLoop(SampleFn sample, SamplingOptions options, Board& board,
                           std::shared_ptr<http::Feed> feed, SelfMetrics self_metrics,
                           std::shared_ptr<Heartbeat> heartbeat, const Clock& clock)
    : state_(std::make_shared<State>(std::move(sample), options, board, std::move(feed),
                                     std::move(self_metrics), heartbeat, clock)),
      heartbeat_(std::move(heartbeat)) {}

SamplingLoop::SamplingLoop(nodeinfo::Sampler sampler, std::chrono::milliseconds interval,
                           Board& board, std::shared_ptr<http::Feed> feed, SelfMetrics self_metrics,
                           std::shared_ptr<Heartbeat> heartbeat)
    : SamplingLoop(
          [s = std::make_shared<nodeinfo::Sampler>(std::move(sampler))] { return s->sample(); },
          SamplingOptions{.interval = interval}, board, std::move(feed), std::move(self_metrics),
          std::move(heartbeat)) {}

SamplingLoop::~SamplingLoop() { stop(); }

Result<void> SamplingLoop::start() {
  if (started_) return {};
  // std::thread reports a failure to create the thread only by exception: turn it into an Error
  // right here.
  try {
    std::thread(run, state_).detach();  // joined through `exited` in stop(), see there
  } catch (const std::system_error& e) {
    return Error{e.code(), "cannot start the sampling thread"};
  }
  started_ = true;
  // The first sample is normally ready in microseconds, before the first request arrives.
  std::unique_lock lock(state_->mutex);
  state_->changed.wait_for(lock, state_->options.first_sample_wait,
                           [this] { return state_->published > 0 || state_->exited; });
  return {};
}

// The thread is detached from the start and "joined" by waiting for `exited`: std::thread has no
// timed join, and the thread must be able to outlive the loop when it is stuck in a read.
bool SamplingLoop::stop() {
  if (!started_ || finished_) return true;
  finished_ = true;
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  s.stopping = true;
  s.wake.notify_all();
  if (s.changed.wait_for(lock, s.options.stop_wait, [&s] { return s.exited; })) return true;
  // A publish never blocks on I/O for long (rendering; /proc/self reads): let it finish so that
  // nothing the thread uses is destroyed under it, then cut the thread loose.
  s.changed.wait(lock, [&s] { return !s.publishing; });
  s.abandoned = true;
  log::error("sampler thread stuck in a read; abandoning it",
             {{"waited_ms", static_cast<std::int64_t>(s.options.stop_wait.count())}});
  return false;
}

void SamplingLoop::recheck() {
  {
    std::lock_guard lock(state_->mutex);
    state_->rechecked = true;
  }
  state_->wake.notify_all();
}

std::uint64_t SamplingLoop::samples_published() const {
  std::lock_guard lock(state_->mutex);
  return state_->published;
}

void SamplingLoop::sample_once() {
  State& s = *state_;
  const auto started = s.clock.steady_now();
  s.heartbeat->begin(started);
  nodeinfo::Snapshot snapshot = s.sample();
  if (!claim(s)) return;
  const double seconds = std::chrono::duration<double>(s.clock.steady_now() - started).count();
  s.heartbeat->end();
  publish(s, std::move(snapshot), started, seconds);
}

void SamplingLoop::run(std::shared_ptr<State> state) {
  State& s = *state;
  auto scheduled = s.clock.steady_now();
  for (;;) {
    const auto started = s.clock.steady_now();
    s.heartbeat->begin(started);
    nodeinfo::Snapshot snapshot = s.sample();  // may block in a read; see the header
    if (!claim(s)) return;                     // abandoned: touch nothing outside our State
    const auto finished = s.clock.steady_now();
    s.heartbeat->end();
    publish(s, std::move(snapshot), started,
            std::chrono::duration<double>(finished - started).count());
    scheduled = next_tick(scheduled, finished, s.options.interval);
    std::unique_lock lock(s.mutex);
    while (!s.stopping && s.clock.steady_now() < scheduled) {
      s.rechecked = false;
      s.wake.wait_for(lock, scheduled - s.clock.steady_now(),
                      [&s] { return s.stopping || s.rechecked; });
    }
    if (s.stopping) break;
  }
  std::lock_guard lock(s.mutex);
  s.exited = true;
  s.changed.notify_all();
}

bool SamplingLoop::claim(State& s) {
  std::lock_guard lock(s.mutex);
  if (s.abandoned) return false;
  s.publishing = true;
  return true;
}

void SamplingLoop::publish(State& s, nodeinfo::Snapshot snapshot,
                           std::chrono::steady_clock::time_point started, double seconds) {
  // Log when the set of failing sources changes, not every interval.
  if (snapshot.errors != s.last_errors) {
    for (const std::string& error : snapshot.errors) {
      log::warn("source unavailable", {{"reason", error}});
    }
    if (snapshot.errors.empty() && !s.last_errors.empty()) log::info("all sources readable again");
    s.last_errors = snapshot.errors;
  }
  if (snapshot.ok() && !s.ever_ok) {
    s.ever_ok = true;
    log::info("first sample ready", {{"node", snapshot.node_name}});
  }

  std::string self = s.self_metrics ? s.self_metrics(snapshot, seconds) : std::string();
  auto published = publish_snapshot(std::move(snapshot), started, self);
  s.board.publish(published);
  // Streams get every sample, also during an outage: its nulls and `errors` tell the client
  // what is missing instead of a silence it would take for a dead agent.
  if (s.feed) {
    s.feed->publish(std::make_shared<const std::string>(
        render::render_sse_event(*published->snapshot, published->json)));
  }
  std::lock_guard lock(s.mutex);
  s.publishing = false;
  ++s.published;
  s.changed.notify_all();
}

}  // namespace nodeagent::agent
