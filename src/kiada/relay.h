#pragma once
// Relays the agent's /v1/node/watch stream to Kiada's own /events feed, so a browser that can
// reach Kiada (but not the node) still gets live data. One upstream connection serves every
// browser; events are re-framed as `event: node`, and agent failures become
// `event: agent-error` with {"error": "<cause>"} while the relay reconnects with backoff.
//
// Liveness, both ways:
// - Upstream, any bytes count (the agent sends a `: heartbeat` comment on a silent stream, so a
//   long --interval is fine): a stream silent for idle_timeout is dropped. A stream that sends
//   bytes but no complete event for max_event_gap (a trickle, or an agent that only heartbeats)
//   is dropped too; reconnecting is cheap, and the agent answers a new watcher with its latest
//   sample at once.
// - Downstream, browsers cannot see SSE comments (EventSource hides them), so while the upstream
//   is healthy and nothing was published for `heartbeat`, the relay publishes
//   `event: heartbeat` carrying the latest sample again: the page knows the data is current, and
//   a page that has just connected gets the sample at once (the feed keeps the latest chunk).
// Events larger than max_event_bytes (the agent's JSON is a few KiB) are refused as errors.
//
// Time comes from RelayOptions::now, so tests move it instead of sleeping.
// Thread-safety: construct, then start() once; stop() and the destructor may run on any thread
// (not concurrently with each other).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "http/feed.h"
#include "nodeagent/client.h"

namespace nodeagent::kiada {

struct RelayOptions {
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds idle_timeout{5000};    // no byte at all this long -> reconnect
  std::chrono::milliseconds max_event_gap{30000};  // no complete event this long -> reconnect
  std::chrono::milliseconds heartbeat{2000};       // downstream heartbeat on a quiet feed
  std::chrono::milliseconds min_backoff{250};
  std::chrono::milliseconds max_backoff{5000};
  std::size_t max_event_bytes = 64 * 1024;
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
  std::chrono::milliseconds tick{100};  // how often (real time) the watchdog reads `now`
};

class StreamRelay {
 public:
  StreamRelay(client::Result<client::Discovery> discovery, client::ClientOptions client_options,
              std::shared_ptr<http::Feed> feed, RelayOptions options = {});
  ~StreamRelay();
  StreamRelay(const StreamRelay&) = delete;
  StreamRelay& operator=(const StreamRelay&) = delete;

  void start();
  void stop();

  // The SSE chunks published to the feed (exposed for tests).
  static std::string node_chunk(std::string_view json, std::string_view event = "node");
  static std::string heartbeat_chunk(std::string_view json) {
    return node_chunk(json, "heartbeat");
  }
  static std::string error_chunk(std::string_view message);

 private:
  void run(std::stop_token stop);
  void watchdog(std::stop_token stop);
  void publish(std::string chunk);

  client::Result<client::Discovery> discovery_;
  client::ClientOptions client_options_;
  std::shared_ptr<http::Feed> feed_;
  RelayOptions options_;

  // Shared by the relay thread and the watchdog.
  std::mutex mutex_;
  std::stop_source attempt_;  // the watch in progress; the watchdog may end it
  bool watching_ = false;
  bool healthy_ = false;       // this watch has delivered an event
  bool gap_exceeded_ = false;  // the watchdog ended this watch
  RelayOptions::Clock::time_point last_event_{};
  RelayOptions::Clock::time_point last_publish_{};
  std::string last_json_;

  std::mutex threads_mutex_;  // start() (main thread) vs stop() (the signal thread)
  std::jthread thread_;
  std::jthread watchdog_;
};

}  // namespace nodeagent::kiada
