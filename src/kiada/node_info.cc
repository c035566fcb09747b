#include "kiada/node_info.h"

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

NodeInfoFetcher::~NodeInfoFetcher() {
  if (worker_.joinable()) {
    worker_.request_stop();  // wakes the condition variable wait through the token
    worker_.join();
  }
}

std::string NodeInfoFetcher::line() {
  if (!config_error_.empty()) return config_error_;
  std::unique_lock lock(mutex_);
  if (!in_flight_) {
    in_flight_ = true;
    ++round_;
    changed_.notify_all();
  }
  const std::uint64_t mine = round_;
  const auto budget = options_.timeout + kMargin;
  if (!changed_.wait_for(lock, budget, [&] { return done_round_ >= mine; })) {
    // Only if the worker itself is starved; the client's own deadline normally fires first.
    return "ERROR: timeout: no answer from the agent within " +
           std::to_string(options_.timeout.count()) + " ms";
  }
  return done_line_;
}

void NodeInfoFetcher::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (!changed_.wait(lock, stop, [&] { return in_flight_ && done_round_ < round_; })) break;
    const std::uint64_t round = round_;
    lock.unlock();
    auto r = client_->text();
    std::string result = r ? *r : "ERROR: " + r.error().message();
    if (!r) log::debug("node agent call failed", {{"error", r.error().message()}});
    lock.lock();
    done_round_ = round;
    done_line_ = std::move(result);
    in_flight_ = false;
    changed_.notify_all();
  }
}

}  // namespace nodeagent::kiada
