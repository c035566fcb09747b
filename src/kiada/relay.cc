#include "kiada/relay.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "log/log.h"

namespace nodeagent::kiada {

StreamRelay::StreamRelay(client::Result<client::Discovery> discovery,
                         client::ClientOptions client_options, std::shared_ptr<http::Feed> feed,
                         RelayOptions options)
    : discovery_(std::move(discovery)),
      client_options_(std::move(client_options)),
      feed_(std::move(feed)),
      options_(options) {}

StreamRelay::~StreamRelay() { stop(); }

void StreamRelay::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void StreamRelay::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::string StreamRelay::node_chunk(std::string_view json) {
  std::string out = "event: node\ndata: ";
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
         boost::json::serialize(boost::json::string(message)) + "}\n\n";
}

void StreamRelay::run(std::stop_token stop) {
  if (!discovery_) {
    feed_->publish(std::make_shared<const std::string>(error_chunk(discovery_.error().message())));
    return;
  }
  client::Client client(discovery_->endpoint, client_options_);
  client::WatchOptions watch;
  watch.idle_timeout = options_.idle_timeout;
  auto backoff = options_.min_backoff;
  std::mutex mutex;
  std::condition_variable_any sleeper;
  std::string last_error;
  while (!stop.stop_requested()) {
    bool got_event = false;
    auto r = client.watch(
        [&](const client::SseEvent& ev) {
          if (ev.type == "node" || ev.type == "message") {
            feed_->publish(std::make_shared<const std::string>(node_chunk(ev.data)));
            if (!got_event && !last_error.empty()) log::info("node agent stream restored");
            got_event = true;
            last_error.clear();
          }
          return true;
        },
        stop, watch);
    if (stop.stop_requested()) break;
    std::string why = r ? "stream ended" : r.error().message();
    feed_->publish(std::make_shared<const std::string>(error_chunk(why)));
    if (why != last_error) log::warn("node agent stream failed", {{"error", why}});
    last_error = why;
    if (got_event) backoff = options_.min_backoff;
    std::unique_lock lock(mutex);
    sleeper.wait_for(lock, stop, backoff, [] { return false; });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace nodeagent::kiada
