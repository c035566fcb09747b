#pragma once
// Blocking HTTP/1.1 client for the node agent's routes (text line, JSON snapshot, SSE stream).
//
// Every call is bounded by ClientOptions::timeout, which covers the whole exchange: DNS
// resolution, connect, sending the request, reading the complete response, and every retry with
// its pause (see RetryOptions). Failures come back as Result errors (see error.h); nothing throws
// across this API except std::bad_alloc.
// Consecutive calls reuse one keep-alive connection; a reused connection the agent has closed in
// the meantime is detected and the (idempotent) GET is repeated on a fresh connection.
//
// Locality: with ClientOptions::expected_node set, every answer must carry the agent's
// `Node-Name` header with that name (and a /v1/node document or stream event must name it);
// anything else is ErrorCode::kWrongNode, never data.
//
// Thread-safety: a Client is NOT safe for concurrent use; give each thread its own Client (they
// are cheap: one io_context and at most one socket). The only exception is the std::stop_token
// passed to watch(), which may be triggered from any thread. Callbacks (on_retry, on_event,
// on_disconnect) run on the calling thread, inside the call.

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

// One failed attempt that is about to be repeated (RetryOptions::on_retry).
struct RetryEvent {
  int attempt = 0;                     // the attempt that failed, 1 for the first
  Error error;                         // why; a retried 503 is kBadStatus with the agent's reason
  std::chrono::milliseconds delay{0};  // the pause before the next attempt
  std::chrono::milliseconds remaining{0};  // what is left of the call's timeout, before the pause
};

// Retrying inside the one deadline. Only GETs are ever sent, so repeating one has no side effect.
// Retried: connection refused, a missing unix socket (ENOENT) or one nobody listens on, a
// connection reset or closed before any byte of the response, and a 503 that says the agent is
// not ready yet: one with a Retry-After header, or the agent's text/plain "no sample yet". Any
// other answer (another 503 - e.g. sources unreadable, shutting down -, a 4xx, a wrong node) and
// a timeout are final. The pause doubles from initial_backoff up to max_backoff, each one drawn
// at random from [d/2, d] (jitter spreads the clients of a restarted agent). A pause that would
// end at or after the call's deadline is not taken: the call returns the last error at once, so
// a retried call never takes longer than ClientOptions::timeout. When the deadline ends during a
// repeated attempt, the call returns the previous attempt's error (e.g. connection refused)
// rather than a bare timeout.
struct RetryOptions {
  bool enabled = true;
  std::chrono::milliseconds initial_backoff{10};
  std::chrono::milliseconds max_backoff{200};
  int max_attempts = 0;  // 0: as many as fit into the timeout; 1 is the same as !enabled
  // Called before each pause (to log or count retries); must not call into this Client.
  std::function<void(const RetryEvent&)> on_retry;
};

struct ClientOptions {
  std::chrono::milliseconds timeout{1000};  // per call, everything (retries too) included
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::string user_agent = "node-agent-client/0.1";
  // The node this client's agent must describe, usually $NODE_NAME; "" switches the check off.
  std::string expected_node;
  RetryOptions retry;
};

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  std::string node_name;  // the Node-Name header the agent sends; "" when absent
};

// The kBadStatus error for a non-2xx answer to GET <endpoint prefix><path>: names the path as
// sent and quotes a short one-line text/plain body (the agent's reason for a 503).
Error bad_status(const Endpoint& endpoint, std::string_view path, const HttpResponse& response);

struct WatchOptions {
  std::string path = "/v1/node/watch";  // below the endpoint's prefix
  // The longest silence tolerated once the stream is open; any bytes count as a sign of life
  // (events, the agent's `: heartbeat` comments, `retry:` fields), so a long sampling interval is
  // fine as long as the agent sends heartbeats. After it the stream has broken with kTimeout.
  // Connect + response header use the client's timeout (and its retries).
  std::chrono::milliseconds idle_timeout{10000};
  // After the stream broke (agent restarted or went away, connection closed or reset, silence
  // beyond idle_timeout, not-ready 503), connect again by itself instead of returning, until the
  // callback returns false or `stop` is requested. The pause before each reconnection is the
  // server's `retry:` value (reconnect_delay until it sent one), capped at max_reconnect_delay,
  // doubling (capped) while reconnection attempts keep failing. Errors that a new connection
  // would not cure end the watch as without reconnect: kWrongNode, a 4xx/5xx other than the
  // not-ready 503, kProtocol (an oversized event too), kBodyTooLarge, an error the callback
  // returned. The first connection is not covered: when it fails, watch() returns the error
  // (after the usual retries within the timeout).
  bool reconnect = false;
  std::chrono::milliseconds reconnect_delay{1000};
  std::chrono::milliseconds max_reconnect_delay{5000};
  // With reconnect: called each time the stream broke, with why and the pause before the next
  // attempt (to show the outage; the events resume by themselves). Must not call into the Client.
  std::function<void(const Error& why, std::chrono::milliseconds delay)> on_disconnect;
};

class Client {
 public:
  explicit Client(Endpoint endpoint, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  const Endpoint& endpoint() const;
  const ClientOptions& options() const;

  // GET <prefix><path>. Any status is a successful exchange here; callers decide (a not-ready 503
  // is retried first, see RetryOptions, and is returned when the budget ends). With
  // expected_node set, a missing or different Node-Name header is kWrongNode whatever the status.
  Result<HttpResponse> get(std::string_view path, std::string_view accept = "*/*");

  // GET <prefix>/ as text/plain: the agent's one-line summary without the trailing newline, as
  // sent (print it through printable()). Non-2xx -> kBadStatus; empty or multi-line body ->
  // kUnparsableBody; another node -> kWrongNode. `stop` (may be triggered from any thread) ends
  // the call at once with kCancelled.
  Result<std::string> text(std::stop_token stop = {});

  // GET <prefix>/v1/node, parsed. Non-2xx -> kBadStatus; invalid JSON -> kUnparsableBody;
  // another node (header or the document's "node") -> kWrongNode.
  Result<NodeSnapshot> node();

  // Opens <prefix><options.path> (text/event-stream) on a dedicated connection and calls
  // on_event for each event in order, from the calling thread. Returns when on_event returns
  // false (success) or an Error (that error, never reconnected), when `stop` is requested
  // (kCancelled), or on an error (the agent went away: kConnectionClosed; too long silent:
  // kTimeout; ...) unless options.reconnect. With expected_node set, the stream's Node-Name
  // header and every event's data (a JSON object whose "node" member must name that node) are
  // checked; a mismatch is kWrongNode and ends the watch before the event reaches on_event.
  // Blocks the calling thread meanwhile.
  Result<void> watch(const SseParser::OnEvent& on_event, std::stop_token stop = {},
                     const WatchOptions& options = {});

  // Drops the kept-alive connection, if any.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nodeagent::client
