#pragma once
// Relays the agent's /v1/node/watch stream to Kiada's own /events feed, so a browser that can
// reach Kiada (but not the node) still gets live data. One upstream connection serves every
// browser; events are re-framed as `event: node` and agent failures become
// `event: agent-error` with {"error": "<cause>"} while the relay reconnects with backoff.
//
// Thread-safety: construct, then start() once; stop() and the destructor may run on any thread.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "http/feed.h"
#include "nodeagent/client.h"

namespace nodeagent::kiada {

struct RelayOptions {
  std::chrono::milliseconds idle_timeout{5000};  // agent silent this long -> reconnect
  std::chrono::milliseconds min_backoff{250};
  std::chrono::milliseconds max_backoff{5000};
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
  static std::string node_chunk(std::string_view json);
  static std::string error_chunk(std::string_view message);

 private:
  void run(std::stop_token stop);

  client::Result<client::Discovery> discovery_;
  client::ClientOptions client_options_;
  std::shared_ptr<http::Feed> feed_;
  RelayOptions options_;
  std::jthread thread_;
};

}  // namespace nodeagent::kiada
