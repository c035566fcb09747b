#include "agent/sampling.h"

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
    out->unavailable = text.error().message();
    if (out->unavailable.empty() || out->unavailable.back() != '\n') out->unavailable += '\n';
  }
  out->json = render::render_json(snapshot);
  out->metrics = render::render_prometheus(snapshot);
  out->metrics += self_metrics;
  out->snapshot = std::make_shared<const nodeinfo::Snapshot>(std::move(snapshot));
  return out;
}

SamplingLoop::SamplingLoop(nodeinfo::Sampler sampler, std::chrono::milliseconds interval,
                           Board& board, std::shared_ptr<http::Feed> feed, SelfMetrics self_metrics)
    : sampler_(std::move(sampler)),
      interval_(interval),
      board_(board),
      feed_(std::move(feed)),
      self_metrics_(std::move(self_metrics)) {}

SamplingLoop::~SamplingLoop() { stop(); }

void SamplingLoop::start() {
  sample_once();  // the first sample is ready before the first request can arrive
  thread_ = std::thread([this] { run(); });
}

void SamplingLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SamplingLoop::run() {
  auto next = std::chrono::steady_clock::now() + interval_;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_until(lock, next, [this] { return stopping_; })) {
    lock.unlock();
    sample_once();
    lock.lock();
    // Fixed-rate schedule; after a stall (suspend, overload) skip missed ticks instead of bursting.
    next += interval_;
    auto now = std::chrono::steady_clock::now();
    if (next <= now) next = now + interval_;
  }
}

void SamplingLoop::sample_once() {
  auto started = std::chrono::steady_clock::now();
  nodeinfo::Snapshot snapshot = sampler_.sample();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // Log when the set of failing sources changes, not every interval.
  if (snapshot.errors != last_errors_) {
    for (const std::string& error : snapshot.errors) {
      log::warn("source unavailable", {{"reason", error}});
    }
    if (snapshot.errors.empty() && !last_errors_.empty()) log::info("all sources readable again");
    last_errors_ = snapshot.errors;
  }
  if (snapshot.ok() && !ever_ok_) {
    ever_ok_ = true;
    log::info("first sample ready", {{"node", snapshot.node_name}});
  }

  std::string self = self_metrics_ ? self_metrics_(snapshot, seconds) : std::string();
  auto published = publish_snapshot(std::move(snapshot), started, self);
  board_.publish(published);
  // Streams get every sample, also during an outage: its nulls and `errors` tell the client
  // what is missing instead of a silence it would take for a dead agent.
  if (feed_) {
    feed_->publish(std::make_shared<const std::string>(
        render::render_sse_event(*published->snapshot, published->json)));
  }
}

}  // namespace nodeagent::agent
