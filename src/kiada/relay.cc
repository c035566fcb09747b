#include "kiada/relay.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "log/log.h"
#include "nodeagent/printable.h"

namespace nodeagent::kiada {

StreamRelay::StreamRelay(client::Result<client::Discovery> discovery,
                         client::ClientOptions client_options, std::shared_ptr<http::Feed> feed,
                         RelayOptions options)
    : discovery_(std::move(discovery)),
      client_options_(std::move(client_options)),
      feed_(std::move(feed)),
      options_(std::move(options)) {}

StreamRelay::~StreamRelay() { stop(); }

void StreamRelay::start() {
  std::lock_guard lock(threads_mutex_);  // stop() may come from the signal thread
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
  if (discovery_) watchdog_ = std::jthread([this](std::stop_token stop) { watchdog(stop); });
}

void StreamRelay::stop() {
  std::lock_guard lock(threads_mutex_);
  for (std::jthread* t : {&watchdog_, &thread_}) {
    if (t->joinable()) {
      t->request_stop();
      t->join();
    }
  }
}

std::string StreamRelay::node_chunk(std::string_view json, std::string_view event) {
  std::string out = "event: " + std::string(event) + "\ndata: ";
  // A JSON document spread over several lines would need one data: field per line.
  for (char c : json) {
    if (c == '\n') {
      out += "\ndata: ";
    } else if (c != '\r') {
      out += c;
    }
  }
  out += "\n\n";
  return out;
}

std::string StreamRelay::error_chunk(std::string_view message) {
  return "event: agent-error\ndata: {\"error\":" +
         boost::json::serialize(boost::json::string(client::printable(message))) + "}\n\n";
}

void StreamRelay::publish(std::string chunk) {
  feed_->publish(std::make_shared<const std::string>(std::move(chunk)));
}

void StreamRelay::watchdog(std::stop_token stop) {
  std::mutex sleep_mutex;
  std::condition_variable_any sleeper;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(sleep_mutex);
      sleeper.wait_for(lock, stop, options_.tick, [] { return false; });
    }
    if (stop.stop_requested()) return;
    std::string beat;
    {
      std::lock_guard lock(mutex_);
      if (!watching_) continue;
      auto now = options_.now();
      if (now - last_event_ > options_.max_event_gap) {
        gap_exceeded_ = true;
        attempt_.request_stop();
      } else if (healthy_ && now - last_publish_ >= options_.heartbeat) {
        beat = heartbeat_chunk(last_json_);
        last_publish_ = now;
      }
    }
    if (!beat.empty()) publish(std::move(beat));
  }
}

void StreamRelay::run(std::stop_token stop) {
  if (!discovery_) {
    publish(error_chunk(discovery_.error().message()));
    return;
  }
  client::Client client(discovery_->endpoint, client_options_);
  client::WatchOptions watch;
  watch.idle_timeout = options_.idle_timeout;
  auto backoff = options_.min_backoff;
  std::mutex sleep_mutex;
  std::condition_variable_any sleeper;
  std::string last_error;
  while (!stop.stop_requested()) {
    std::stop_source attempt;
    {
      std::lock_guard lock(mutex_);
      attempt_ = attempt;
      watching_ = true;
      healthy_ = false;
      gap_exceeded_ = false;
      last_event_ = options_.now();
    }
    std::stop_callback forward(stop, [&attempt] { attempt.request_stop(); });
    bool got_event = false;
    auto r = client.watch(
        [&](const client::SseEvent& ev) -> client::Result<bool> {
          if (ev.type != "node" && ev.type != "message") return true;
          if (ev.data.size() > options_.max_event_bytes) {
            return client::Error{client::ErrorCode::kBodyTooLarge,
                                 "event of " + std::to_string(ev.data.size()) + " bytes (at most " +
                                     std::to_string(options_.max_event_bytes) + ")"};
          }
          std::string chunk = node_chunk(ev.data);
          {
            std::lock_guard lock(mutex_);
            healthy_ = true;
            last_event_ = last_publish_ = options_.now();
            last_json_ = ev.data;
          }
          publish(std::move(chunk));
          if (!got_event && !last_error.empty()) log::info("node agent stream restored");
          got_event = true;
          last_error.clear();
          return true;
        },
        attempt.get_token(), watch);
    bool gap;
    {
      std::lock_guard lock(mutex_);
      watching_ = healthy_ = false;
      gap = gap_exceeded_;
    }
    if (stop.stop_requested()) break;
    std::string why = gap ? "no complete event from the agent within " +
                                std::to_string(options_.max_event_gap.count()) + " ms"
                      : r ? "stream ended"
                          : r.error().message();
    publish(error_chunk(why));
    if (why != last_error)
      log::warn("node agent stream failed", {{"error", client::printable(why)}});
    last_error = why;
    if (got_event) backoff = options_.min_backoff;
    std::unique_lock lock(sleep_mutex);
    sleeper.wait_for(lock, stop, backoff, [] { return false; });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace nodeagent::kiada
