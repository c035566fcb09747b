#pragma once
// The "Node info" of Kiada's pages: the local agent's text line, fetched per page view.
//
// The HTTP server calls handlers on its event-loop threads, so the agent call must stay bounded
// there: one worker thread owns a keep-alive Client and performs the fetches, and page requests
// that arrive while a fetch is running share its result (single flight). A page therefore waits
// at most the client timeout plus a small margin, and a slow or dead agent costs the agent
// one connection attempt at a time however many pages are being served.
//
// Thread-safety: line() may be called from any number of threads.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "nodeagent/client.h"

namespace nodeagent::kiada {

class NodeInfoFetcher {
 public:
  // A failed discovery is reported by every line() without any network traffic.
  NodeInfoFetcher(client::Result<client::Discovery> discovery, client::ClientOptions options);
  ~NodeInfoFetcher();
  NodeInfoFetcher(const NodeInfoFetcher&) = delete;
  NodeInfoFetcher& operator=(const NodeInfoFetcher&) = delete;

  // The agent's line, or "ERROR: <cause>" (e.g. "ERROR: connection refused: 10.0.0.7:11559").
  // Returns within options.timeout + kMargin.
  std::string line();

  static constexpr std::chrono::milliseconds kMargin{50};

 private:
  void run(std::stop_token stop);

  std::string config_error_;  // non-empty: discovery failed
  client::ClientOptions options_;
  std::optional<client::Client> client_;  // used only by the worker thread

  std::mutex mutex_;
  std::condition_variable_any changed_;
  bool in_flight_ = false;
  std::uint64_t round_ = 0;       // the round in flight or last started
  std::uint64_t done_round_ = 0;  // the last round with a result
  std::string done_line_;
  std::jthread worker_;  // last: stops and joins before the state above goes away
};

}  // namespace nodeagent::kiada
