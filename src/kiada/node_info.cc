#include "kiada/node_info.h"

#include <algorithm>
#include <future>

#include "log/log.h"

namespace nodeagent::kiada {

client::Error NodeInfoFetcher::shutdown_error() {
  return client::Error{client::ErrorCode::kCancelled, "Kiada is shutting down", 0};
}

NodeInfoFetcher::NodeInfoFetcher(client::Result<client::Discovery> discovery,
                                 client::ClientOptions options)
    : options_(std::move(options)) {
  options_.max_body_bytes = std::min(options_.max_body_bytes, kMaxLineBytes);
  if (!discovery) {
    discovered_ = discovery.error();
    return;
  }
  client_.emplace(discovery->endpoint, options_);
  worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

NodeInfoFetcher::~NodeInfoFetcher() { stop(); }

void NodeInfoFetcher::answer_waiters(const NodeLine& result) {
  std::vector<Done> answered;
  {
    std::lock_guard lock(mutex_);
    answered.swap(waiters_);
  }
  for (auto& done : answered) done(result);
}

void NodeInfoFetcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  // Pages first: they are answered while the call in flight is still being cancelled.
  answer_waiters(shutdown_error());
  if (worker_.joinable()) {
    worker_.request_stop();  // wakes the wait, and cancels the call in flight (see run())
    worker_.join();
  }
  answer_waiters(shutdown_error());  // anyone who joined meanwhile
}

void NodeInfoFetcher::async_line(Done done) {
  if (!discovered_) {
    done(discovered_.error());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      waiters_.push_back(std::move(done));
      if (!in_flight_) {
        in_flight_ = true;
        changed_.notify_all();
      }
      return;
    }
  }
  done(shutdown_error());
}

NodeLine NodeInfoFetcher::line() {
  auto result = std::make_shared<std::promise<NodeLine>>();
  auto future = result->get_future();
  async_line([result](NodeLine line) { result->set_value(std::move(line)); });
  if (future.wait_for(options_.timeout + kMargin) != std::future_status::ready) {
    // Only if the worker itself is starved; the client's own deadline normally fires first.
    return client::Error{
        client::ErrorCode::kTimeout,
        "no answer from the agent within " + std::to_string(options_.timeout.count()) + " ms", 0};
  }
  return future.get();
}

void NodeInfoFetcher::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (changed_.wait(lock, stop, [&] { return in_flight_; }) && !stop.stop_requested()) {
    lock.unlock();
    NodeLine r = client_->text(stop);
    if (!r) log::debug("node agent call failed", {{"error", r.error().message()}});
    if (stop.stop_requested()) r = shutdown_error();
    lock.lock();
    std::vector<Done> answered;
    answered.swap(waiters_);  // including those who joined while the call ran
    in_flight_ = false;
    lock.unlock();
    for (auto& done : answered) done(r);
    lock.lock();
  }
}

}  // namespace nodeagent::kiada
