#pragma once
// Blocking HTTP/1.1 client for the node agent's routes (text line, JSON snapshot, SSE stream).
//
// Every call is bounded by ClientOptions::timeout, which covers the whole exchange: DNS
// resolution, connect, sending the request and reading the complete response. Failures come back
// as Result errors (see error.h); nothing throws across this API except std::bad_alloc.
// Consecutive calls reuse one keep-alive connection; a reused connection the agent has closed in
// the meantime is detected and the (idempotent) GET is retried once on a fresh connection.
//
// Thread-safety: a Client is NOT safe for concurrent use; give each thread its own Client (they
// are cheap: one io_context and at most one socket). The only exception is the std::stop_token
// passed to watch(), which may be triggered from any thread.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "nodeagent/discovery.h"
#include "nodeagent/error.h"
#include "nodeagent/snapshot.h"
#include "nodeagent/sse.h"

namespace nodeagent::client {

struct ClientOptions {
  std::chrono::milliseconds timeout{1000};  // per call, everything included
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::string user_agent = "node-agent-client/0.1";
};

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// The kBadStatus error for a non-2xx answer to GET <endpoint prefix><path>: names the path as
// sent and quotes a short one-line text/plain body (the agent's reason for a 503).
Error bad_status(const Endpoint& endpoint, std::string_view path, const HttpResponse& response);

struct WatchOptions {
  std::string path = "/v1/node/watch";  // below the endpoint's prefix
  // The longest silence tolerated once the stream is open (the agent sends an event per sampling
  // interval); after it the watch ends with kTimeout. Connect + response header use the client's
  // timeout.
  std::chrono::milliseconds idle_timeout{10000};
};

class Client {
 public:
  explicit Client(Endpoint endpoint, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  const Endpoint& endpoint() const;
  const ClientOptions& options() const;

  // GET <prefix><path>. Any status is a successful exchange here; callers decide.
  Result<HttpResponse> get(std::string_view path, std::string_view accept = "*/*");

  // GET <prefix>/ as text/plain: the agent's one-line summary without the trailing newline.
  // Non-2xx -> kBadStatus; empty or multi-line body -> kUnparsableBody. `stop` (may be
  // triggered from any thread) ends the call at once with kCancelled.
  Result<std::string> text(std::stop_token stop = {});

  // GET <prefix>/v1/node, parsed. Non-2xx -> kBadStatus; invalid JSON -> kUnparsableBody.
  Result<NodeSnapshot> node();

  // Opens <prefix><options.path> (text/event-stream) on a dedicated connection and calls
  // on_event for each event in order, from the calling thread. Returns when on_event returns
  // false (success), when `stop` is requested (kCancelled), or on an error (the agent went away:
  // kConnectionClosed; too long silent: kTimeout; ...). Blocks the calling thread meanwhile.
  Result<void> watch(const std::function<bool(const SseEvent&)>& on_event,
                     std::stop_token stop = {}, const WatchOptions& options = {});

  // Drops the kept-alive connection, if any.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nodeagent::client
