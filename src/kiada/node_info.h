#pragma once
// The "Node info" of Kiada's pages: the local agent's text line, fetched per page view.
//
// Page handlers must not hold the HTTP server's event loops while the agent is slow, so they ask
// asynchronously (async_line) and answer through http::Response::deferred. One worker thread owns
// a keep-alive Client and performs the calls; page views that arrive while a call is running
// join it (single flight) and get its result. So a view waits at most the client timeout, and a
// slow or dead agent sees one connection attempt at a time however many pages are being served.
//
// Memory: the agent's line is about 100 bytes, so the answer is capped at kMaxLineBytes (a
// bigger one is the error kBodyTooLarge, read no further than the cap); one result is shared by
// every view of a round, so N concurrent views cost N pages of at most a few KiB each.
//
// Thread-safety: async_line(), line() and stop() may be called from any number of threads.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "nodeagent/client.h"

namespace nodeagent::kiada {

using NodeLine = client::Result<std::string>;

class NodeInfoFetcher {
 public:
  // A failed discovery is reported by every line() without any network traffic.
  NodeInfoFetcher(client::Result<client::Discovery> discovery, client::ClientOptions options);
  ~NodeInfoFetcher();
  NodeInfoFetcher(const NodeInfoFetcher&) = delete;
  NodeInfoFetcher& operator=(const NodeInfoFetcher&) = delete;

  using Done = std::function<void(NodeLine)>;

  // Calls `done` once with the agent's line or the error (e.g. kConnectionRefused), on the worker
  // thread, within options.timeout of the call (at once when discovery failed, and with
  // shutdown_error() once stop() has begun).
  void async_line(Done done);

  // Blocking form for tests and tools: returns within options.timeout + kMargin.
  NodeLine line();

  // Answers every pending caller with shutdown_error() at once, cancels the call in flight and
  // joins the worker; later calls get the shutdown error at once. Idempotent.
  void stop();

  static client::Error shutdown_error();

  static constexpr std::chrono::milliseconds kMargin{50};
  static constexpr std::size_t kMaxLineBytes = 4096;  // the agent's line is ~100 bytes

 private:
  void run(std::stop_token stop);
  void answer_waiters(const NodeLine& result);

  client::Result<void> discovered_;  // the discovery's error, when it failed
  client::ClientOptions options_;
  std::optional<client::Client> client_;  // used only by the worker thread

  std::mutex mutex_;
  std::condition_variable_any changed_;
  bool in_flight_ = false;  // a call has been asked for or is running
  bool stopped_ = false;
  std::vector<Done> waiters_;  // everyone waiting for the call in flight
  std::jthread worker_;        // last: stops and joins before the state above goes away
};

}  // namespace nodeagent::kiada
