#include "kiada/node_info.h"

#include <future>

#include "log/log.h"

namespace nodeagent::kiada {

NodeInfoFetcher::NodeInfoFetcher(client::Result<client::Discovery> discovery,
                                 client::ClientOptions options)
    : options_(std::move(options)) {
  if (!discovery) {
    config_error_ = "ERROR: " + discovery.error().message();
    return;
  }
  client_.emplace(discovery->endpoint, options_);
  worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

NodeInfoFetcher::~NodeInfoFetcher() { stop(); }

void NodeInfoFetcher::stop() {
  if (worker_.joinable()) {
    worker_.request_stop();  // wakes the condition variable wait through the token
    worker_.join();
  }
  std::vector<Done> left;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    left.swap(waiters_);
  }
  for (auto& done : left) done("ERROR: Kiada is shutting down");
}

void NodeInfoFetcher::async_line(Done done) {
  if (!config_error_.empty()) {
    done(config_error_);
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
  done("ERROR: Kiada is shutting down");
}

std::string NodeInfoFetcher::line() {
  auto result = std::make_shared<std::promise<std::string>>();
  auto future = result->get_future();
  async_line([result](std::string line) { result->set_value(std::move(line)); });
  if (future.wait_for(options_.timeout + kMargin) != std::future_status::ready) {
    // Only if the worker itself is starved; the client's own deadline normally fires first.
    return "ERROR: timeout: no answer from the agent within " +
           std::to_string(options_.timeout.count()) + " ms";
  }
  return future.get();
}

void NodeInfoFetcher::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (changed_.wait(lock, stop, [&] { return in_flight_; }) && !stop.stop_requested()) {
    lock.unlock();
    auto r = client_->text();
    std::string result = r ? *r : "ERROR: " + r.error().message();
    if (!r) log::debug("node agent call failed", {{"error", r.error().message()}});
    lock.lock();
    std::vector<Done> answered;
    answered.swap(waiters_);  // including those who joined while the call ran
    in_flight_ = false;
    lock.unlock();
    for (auto& done : answered) done(result);
    lock.lock();
  }
}

}  // namespace nodeagent::kiada
