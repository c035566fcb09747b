#pragma once
// A small HTTP/1.1 server on Boost.Asio/Beast with no knowledge of what it serves.
//
// Threads: `threads` event loops, one io_context each; every accepted connection lives on one
// loop for its whole life, so the Handler runs concurrently on several threads and must be
// thread-safe. A Server object's methods are thread-safe unless noted.
//
// Typical use (the agent binds as root, then drops privileges, then serves):
//   Server server(options, handler);
//   if (auto r = server.listen(); !r) { log::error("listen failed", {{"error",
//   r.error().message()}}); return 1; }
//   drop_privileges();
//   server.run();  // until stop() is called, e.g. from a signal_set handler

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "clock/clock.h"
#include "http/feed.h"
#include "http/listen_address.h"
#include "http/request.h"
#include "http/response.h"
#include "nodeagent/error.h"

namespace nodeagent::http {

// Called on an event-loop thread for every request; must not block for long. Exceptions become
// a 500 response (and a logged error).
using Handler = std::function<Response(const Request&)>;

struct Limits {
  std::size_t header_bytes = 8192;     // request line + headers; beyond -> 431 and close
  std::size_t max_header_count = 100;  // beyond -> 431 and close
  // From the first byte of a request (or from accept) until its header is complete; beyond ->
  // 408 and close. A client trickling one byte a second is cut off.
  std::chrono::milliseconds read_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds idle_timeout =
      std::chrono::seconds(60);  // keep-alive, between requests
  // A single response write (or SSE chunk) may stall this long before the connection is dropped.
  std::chrono::milliseconds send_timeout = std::chrono::seconds(60);
  std::size_t max_connections = 10000;  // beyond: accept and close at once (counted)
  // SSE streams: the most bytes a watcher may be behind. Stream sockets get SO_SNDBUF of this
  // size, which stops the kernel from autotuning their send buffers to megabytes (kernel memory
  // per watcher stays about 2x this), and a watcher whose write is stuck when news arrives
  // while the kernel holds more than this unsent (SIOCOUTQ) is dropped (streams_dropped).
  std::size_t stream_backlog_bytes = 64 * 1024;
  // stop(): how long in-flight requests may take before every connection is closed.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(2);
};

struct ServerOptions {
  std::vector<ListenAddress> listen;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  Limits limits;
  unsigned socket_mode = 0660;  // permission bits of unix socket files (umask ignored)
  // Owner and group of unix socket files (set before they accept); -1 keeps the creator's.
  // Lets a root-started agent hand the socket to its run user and a client group before
  // dropping privileges.
  std::int64_t socket_owner = -1;
  std::int64_t socket_group = -1;
  // Sent as `Node-Name: <node_name>` on every response, the server's own 400/408/431 answers
  // included, so that a client can tell which node answered. Empty: no such header. Must be
  // visible ASCII (the constructor throws std::invalid_argument otherwise).
  std::string node_name;
  // Server-Sent Events: every stream starts with `retry: <sse_retry ms>` (how long a client
  // waits before reconnecting), and a stream silent for sse_heartbeat gets a `: heartbeat`
  // comment, so a client can tell a long sampling interval from a dead server.
  std::chrono::milliseconds sse_retry = std::chrono::seconds(1);
  std::chrono::milliseconds sse_heartbeat = std::chrono::seconds(2);
  // What every deadline (read, idle, send, drain, heartbeat) and the Date header are measured
  // against. Tests pass a ManualClock and advance it instead of sleeping; it must outlive the
  // server. The event loops still wake on real time (at most every 100 ms) to look at it.
  const Clock* clock = &real_clock();
};

// Counters for /metrics; all monotonic except the *_open gauges. Relaxed atomics: each value is
// exact, but values read together are not a consistent snapshot.
struct ServerStats {
  std::atomic<std::uint64_t> connections_open{0};      // gauge
  std::atomic<std::uint64_t> connections_accepted{0};  // including rejected ones
  std::atomic<std::uint64_t> connections_rejected{0};  // over max_connections
  std::atomic<std::uint64_t> requests_total{0};        // complete request headers handled
  std::atomic<std::uint64_t> bad_requests{0};          // 400: malformed request
  std::atomic<std::uint64_t> body_rejected{0};         // 400: body on GET/HEAD
  std::atomic<std::uint64_t> header_too_large{0};      // 431: header bytes or count
  std::atomic<std::uint64_t> handler_errors{0};        // 500: the handler threw
  std::atomic<std::uint64_t> read_timeouts{0};         // 408 or silent close: request too slow
  std::atomic<std::uint64_t> idle_timeouts{0};         // keep-alive connection idle too long
  std::atomic<std::uint64_t> send_timeouts{0};         // client stopped reading
  std::atomic<std::uint64_t> accept_errors{0};         // incl. EMFILE/ENFILE
  std::atomic<std::uint64_t> streams_open{0};          // gauge: SSE sessions
  std::atomic<std::uint64_t> streams_dropped{0};       // SSE watchers too far behind
  std::atomic<std::uint64_t> request_timeouts{0};      // 408 answered (part of read_timeouts)
  std::atomic<std::uint64_t> drain_forced_closes{0};   // connections cut at drain_timeout
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  // Stops and joins threads started by start(). Must not run while run() is still executing on
  // another thread, nor from a handler.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on every address (call once, before run()). On failure nothing stays
  // bound and the error's message() names the address, e.g. "127.0.0.1:80: Permission denied".
  // Unix sockets: bound under a temporary name in the same directory and rename()d over the
  // path once listening, so an existing socket (stale, or a previous agent's that still
  // serves) is replaced atomically; any other existing file is refused. The file gets
  // socket_mode and its owner before it accepts connections. On stop the path is removed only
  // if it is still this server's socket (same device and inode).
  Result<void> listen();
  // Actual addresses after listen(): ports chosen for ":0", e.g. "127.0.0.1:41234", "[::]:80",
  // "unix:///run/node-agent/agent.sock".
  std::vector<std::string> bound_addresses() const;

  // Runs the event loops (threads - 1 new threads plus the caller) until stop() has drained.
  // Calls listen() first if it was not called, and returns its error if that fails. A thread
  // that cannot be created (e.g. RLIMIT_NPROC) is an error with its errno, returned after
  // stopping and joining the threads it did start; the Server is then stopped.
  Result<void> run();
  // Like run() but on `threads` background threads; returns at once. For tests and embedding.
  Result<void> start();
  // Waits for threads started by start() to finish (after stop()).
  void join();

  // Graceful: closes the listening sockets at once (and removes unix socket files), lets
  // requests in flight finish with `Connection: close`, ends SSE streams between chunks, closes
  // idle connections; run() returns when no connection is left or after drain_timeout. Idempotent
  // and non-blocking, callable from any thread including a handler; not async-signal-safe (call
  // it from an asio::signal_set handler, not a raw signal handler).
  void stop();
  bool stopping() const;

  // Graceful with a grace period first, for the window in which load balancers still send new
  // connections after a shutdown began (Kubernetes removes endpoints while the pod already got
  // SIGTERM): keeps accepting and answering for `delay`, every response meanwhile with
  // `Connection: close` so that clients reconnect elsewhere, then does what stop() does.
  // stop() during the delay skips the rest of it. A delay <= 0 is stop(). Idempotent; same
  // thread rules as stop().
  void stop_after(std::chrono::milliseconds delay);
  // True from stop_after() or stop() on.
  bool closing() const;

  const ServerStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nodeagent::http
