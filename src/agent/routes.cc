#include "agent/routes.h"

#include <algorithm>

#include "http/header_value.h"
#include "log/log.h"

namespace nodeagent::agent {
namespace {

constexpr std::string_view kText = http::kTextPlain;
constexpr std::string_view kJson = http::kApplicationJson;
constexpr std::string_view kMetrics = "text/plain; version=0.0.4; charset=utf-8";

// Serves a string owned by the published bundle without copying it.
// The aliasing shared_ptr keeps the whole bundle alive while the body is written.
http::Response shared_body(unsigned status, std::string_view type,
                           const std::shared_ptr<const Published>& state, const std::string& body) {
  return http::Response::shared(status, std::shared_ptr<const std::string>(state, &body), type);
}

http::Response fixed(unsigned status, std::string_view body) {
  return http::Response::static_text(status, body, kText);
}

// The seed line stays the default for `/` (curl sends `Accept: */*`); JSON only when the client
// ranks application/json strictly above text/plain.
bool prefers_json(std::string_view accept) {
  return http::accept_quality(accept, "application/json") >
         http::accept_quality(accept, "text/plain");
}

// 503 with the sample's one-line reason, or a fixed reason before the first sample.
http::Response unavailable(const std::shared_ptr<const Published>& state) {
  if (!state) return fixed(503, "no sample yet\n");
  return shared_body(503, kText, state, state->unavailable);
}

// The node document; 503 when the seed line's sources failed, but still the document: its nulls
// and `errors` say what is missing, and the readings that worked are there.
http::Response node_document(const std::shared_ptr<const Published>& state) {
  if (!state) return fixed(503, "no sample yet\n");
  return shared_body(state->ok ? 200 : 503, kJson, state, state->json);
}

// Accepts the origin form ("/v1/node") and the absolute form ("http://host/v1/node") that
// RFC 9112 section 3.2.2 obliges servers to take; the query is ignored.
std::string_view path_of(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() && http::iequals(target.substr(0, scheme.size()), scheme)) {
      target.remove_prefix(scheme.size());
      const std::size_t slash = target.find('/');
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  return target.substr(0, target.find('?'));
}

}  // namespace

std::string_view route_path(Route route) {
  switch (route) {
    case Route::kRoot:
      return "/";
    case Route::kNode:
      return "/v1/node";
    case Route::kWatch:
      return "/v1/node/watch";
    case Route::kAgent:
      return "/v1/agent";
    case Route::kMetrics:
      return "/metrics";
    case Route::kHealthz:
      return "/healthz";
    case Route::kReadyz:
      return "/readyz";
    case Route::kOther:
      return "other";
  }
  return "other";
}

Route route_of(std::string_view target) {
  target = path_of(target);
  for (Route r : {Route::kRoot, Route::kNode, Route::kWatch, Route::kAgent, Route::kMetrics,
                  Route::kHealthz, Route::kReadyz}) {
    if (target == route_path(r)) return r;
  }
  return Route::kOther;
}

std::size_t RequestCounters::code_index(unsigned status) {
  for (std::size_t i = 0; i + 1 < kCodes.size(); ++i) {
    if (kCodes[i] == status) return i;
  }
  return kCodes.size() - 1;  // any other code
}

void RequestCounters::count(Route route, unsigned status) {
  counts_[static_cast<std::size_t>(route)][code_index(status)].fetch_add(1,
                                                                         std::memory_order_relaxed);
}

std::uint64_t RequestCounters::get(Route route, unsigned status) const {
  return counts_[static_cast<std::size_t>(route)][code_index(status)].load(
      std::memory_order_relaxed);
}

std::chrono::steady_clock::duration stall_threshold(std::chrono::milliseconds interval) {
  return std::clamp<std::chrono::steady_clock::duration>(3 * interval, std::chrono::seconds(10),
                                                         std::chrono::seconds(60));
}

http::Response respond(const http::Request& request, const std::shared_ptr<const Published>& state,
                       const RouteContext& context, std::chrono::steady_clock::time_point now) {
  using boost::beast::http::verb;
  Route route = route_of(request.target);
  if (route == Route::kOther) return fixed(404, "not found\n");
  if (request.method != verb::get && request.method != verb::head) {
    http::Response r = fixed(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const bool fresh = state && state->ok && now - state->sampled_at <= context.stale_after;
  switch (route) {
    case Route::kHealthz:
      if (context.heartbeat) {
        if (auto since = context.heartbeat->busy_since();
            since && now - *since > context.stalled_after) {
          const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - *since);
          return http::Response::text(503,
                                      "sampler stalled: one sample has run for " +
                                          std::to_string(secs.count()) +
                                          "s (a source read is stuck)\n",
                                      kText);
        }
      }
      return fixed(200, "ok\n");
    case Route::kReadyz:
      if (context.shutting_down && context.shutting_down->load(std::memory_order_relaxed)) {
        return fixed(503, "shutting down\n");
      }
      if (fresh) return fixed(200, "ready\n");
      if (state && state->ok) return fixed(503, "sample is stale: the sampler is not keeping up\n");
      return unavailable(state);
    case Route::kRoot: {
      http::Response r = prefers_json(request.accept) ? node_document(state)
                         : state && state->ok         ? shared_body(200, kText, state, state->text)
                                                      : unavailable(state);
      r.headers.emplace_back("Vary", "Accept");  // caches must not mix the two forms
      return r;
    }
    case Route::kNode:
      return node_document(state);
    case Route::kMetrics: {
      // Served even when the seed line's sources fail: the agent's own metrics still matter.
      if (!state) return unavailable(state);
      const std::string* gz = nullptr;
      if (http::accept_quality(request.header("Accept-Encoding"), "gzip") > 0) {
        gz = state->gzipped_metrics();
      }
      http::Response r = shared_body(200, kMetrics, state, gz ? *gz : state->metrics);
      if (gz) r.headers.emplace_back("Content-Encoding", "gzip");
      r.headers.emplace_back("Vary", "Accept-Encoding");  // caches must not mix the two forms
      return r;
    }
    case Route::kWatch:
      if (!state || !state->ok) return node_document(state);
      return http::Response::event_stream(context.feed);
    case Route::kAgent:
      if (!context.agent_report) return fixed(503, "self-report not built yet\n");
      return http::Response::shared(200, context.agent_report, kJson);
    case Route::kOther:
      break;
  }
  return fixed(404, "not found\n");
}

http::Response Router::handle(const http::Request& request) const {
  Route route = route_of(request.target);
  const auto now = std::chrono::steady_clock::now();
  if (request.remote.ip && !access_.allows(*request.remote.ip)) {
    if (auto refused = refusals_.count(now)) {
      // The client named is the latest; `refused` counts every refusal since the last line.
      log::warn("client refused", {{"client", request.remote.to_string()},
                                   {"path", std::string(route_path(route))},
                                   {"refused", refused}});
    }
    counters_.count(route, 403);
    http::Response r = fixed(403, "forbidden: client address not in --allow-cidr\n");
    r.close = true;  // its pipelined requests are not read
    return r;
  }
  http::Response response = respond(request, board_.current(), context_, now);
  counters_.count(route, response.status);
  return response;
}

}  // namespace nodeagent::agent
