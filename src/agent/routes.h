#pragma once
// The agent's HTTP routes. respond() is a pure function of the request, the published sample and
// the clock, so every route and error is tested without sockets; Router adds access control and
// request counting around it.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/access.h"
#include "agent/published.h"
#include "http/feed.h"
#include "http/log_limiter.h"
#include "http/request.h"
#include "http/response.h"

namespace nodeagent::agent {

enum class Route : std::uint8_t {
  kRoot,
  kNode,
  kWatch,
  kAgent,
  kMetrics,
  kHealthz,
  kReadyz,
  kOther
};
inline constexpr std::size_t kRouteCount = 8;
std::string_view route_path(Route route);  // "/", "/v1/node", ..., "other"
Route route_of(std::string_view target);   // query string ignored

// Requests served, by route and status code. Thread-safety: increments are relaxed atomics.
class RequestCounters {
 public:
  static constexpr std::array<unsigned, 8> kCodes{200, 400, 403, 404, 405, 431, 503, 0};
  void count(Route route, unsigned status);
  std::uint64_t get(Route route, unsigned status) const;

 private:
  static std::size_t code_index(unsigned status);
  std::array<std::array<std::atomic<std::uint64_t>, kCodes.size()>, kRouteCount> counts_{};
};

struct RouteContext {
  std::shared_ptr<http::Feed> feed;                 // /v1/node/watch subscribers
  std::shared_ptr<const std::string> agent_report;  // /v1/agent body, fixed after start-up
  std::chrono::steady_clock::duration stale_after;  // /readyz fails when the sample is older
  // Set once a shutdown began: /readyz fails so that endpoints drop the agent while it still
  // answers everything else (--shutdown-delay). Null: never.
  std::shared_ptr<const std::atomic<bool>> shutting_down = nullptr;
  // /healthz fails while one sample has been running longer than stalled_after (a read stuck
  // in the kernel): liveness must say so, so that the kubelet restarts the agent. Null: no check.
  std::shared_ptr<const Heartbeat> heartbeat = nullptr;
  std::chrono::steady_clock::duration stalled_after = std::chrono::seconds(10);
};

// The stall threshold for an interval: 3 intervals, at least 10 s (a sample takes well under a
// millisecond; a loaded node must not fail liveness), at most 60 s.
std::chrono::steady_clock::duration stall_threshold(std::chrono::milliseconds interval);

// `state` may be null before the first sample.
http::Response respond(const http::Request& request, const std::shared_ptr<const Published>& state,
                       const RouteContext& context, std::chrono::steady_clock::time_point now);

// Thread-safety: handle() may run on every event loop at once.
class Router {
 public:
  Router(const Board& board, const AccessList& access, RouteContext context,
         RequestCounters& counters)
      : board_(board), access_(access), context_(std::move(context)), counters_(counters) {}

  http::Response handle(const http::Request& request) const;

 private:
  const Board& board_;
  const AccessList& access_;
  RouteContext context_;
  RequestCounters& counters_;
  // A refused client can send requests as fast as it likes: one warn line per 10 s at most.
  mutable http::LogLimiter refusals_{std::chrono::seconds(10)};
};

}  // namespace nodeagent::agent
