#pragma once
// The "Node info" of Kiada's pages: the local agent's text line, fetched per page view.
//
// Page handlers must not hold the HTTP server's event loops while the agent is slow, so they ask
// asynchronously (async_line) and answer through http::Response::deferred. One worker thread owns
// a keep-alive Client and performs the calls; page views that arrive while a call is running
// join it (single flight) and get its result. So a view waits at most the client timeout, and a
// slow or dead agent sees one connection attempt at a time however many pages are being served.
//
// Thread-safety: async_line() and line() may be called from any number of threads.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "nodeagent/client.h"

namespace nodeagent::kiada {

class NodeInfoFetcher {
 public:
  // A failed discovery is reported by every line() without any network traffic.
  NodeInfoFetcher(client::Result<client::Discovery> discovery, client::ClientOptions options);
  ~NodeInfoFetcher();
  NodeInfoFetcher(const NodeInfoFetcher&) = delete;
  NodeInfoFetcher& operator=(const NodeInfoFetcher&) = delete;

  using Done = std::function<void(std::string)>;

  // Calls `done` once with the agent's line or "ERROR: <cause>" (e.g. "ERROR: connection
  // refused: 10.0.0.7:11559"), on the worker thread, within options.timeout of the call (at once
  // when discovery failed; with "ERROR: Kiada is shutting down" on stop()).
  void async_line(Done done);

  // Blocking form for tests and tools: returns within options.timeout + kMargin.
  std::string line();

  // Stops the worker, answering pending callers; later calls get the shutdown error at once.
  void stop();

  static constexpr std::chrono::milliseconds kMargin{50};

 private:
  void run(std::stop_token stop);

  std::string config_error_;  // non-empty: discovery failed
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
