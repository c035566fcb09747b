#include "nodeagent/client.h"

#include <sys/un.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <optional>
#include <random>

namespace nodeagent::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol::socket;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool is_peer_gone(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

bool is_2xx(unsigned status) { return status >= 200 && status <= 299; }

// The retry rule for answers (RetryOptions): a 503 is "not ready yet" when the server says when
// to come back (Retry-After, RFC 9110 section 10.2.3) or it is the agent's answer before its
// first sample. Other 503s are the agent's considered answer (sources unreadable, stale sample,
// shutting down) and another try within the same second would not change them.
bool not_ready(const HttpResponse& r, bool has_retry_after) {
  if (r.status != 503) return false;
  if (has_retry_after) return true;
  std::string_view body = r.body;
  if (body.ends_with('\n')) body.remove_suffix(1);
  return r.content_type.starts_with("text/plain") && body == "no sample yet";
}

// A Kubernetes node name is at most 253 characters; anything longer is cut in messages.
std::string quoted_node(std::string_view name) {
  constexpr std::size_t kMax = 253;
  std::string out = "\"" + std::string(name.substr(0, kMax)) + "\"";
  if (name.size() > kMax) out += "...";
  return out;
}

// The "node" member of an event's JSON object; kWrongNode "event names no node" when the data is
// no such object or the member is missing or no string.
Result<std::string> node_of_event(std::string_view data) {
  const Error none{ErrorCode::kWrongNode, "event names no node"};
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(data, ec);
  if (ec || !v.is_object()) return none;
  const auto* node = v.as_object().if_contains("node");
  if (!node || !node->is_string()) return none;
  return std::string(node->as_string());
}

}  // namespace

struct Client::Impl {
  Impl(Endpoint e, ClientOptions o) : ep(std::move(e)), opts(std::move(o)) {}

  Endpoint ep;
  ClientOptions opts;
  asio::io_context ioc{1};  // declared before the I/O objects: destroyed after them
  tcp::resolver resolver{ioc};
  tcp::socket tcp_sock{ioc};
  unix_socket unix_sock{ioc};
  asio::steady_timer timer{ioc};  // the call's deadline
  asio::steady_timer pause{ioc};  // the wait between attempts
  Clock::time_point deadline;
  std::minstd_rand rng{std::random_device{}()};
  beast::flat_buffer buffer;
  bool connected = false;
  bool timed_out = false;
  bool cancelled = false;
  std::uint64_t call_id = 0;
  std::chrono::milliseconds armed_for{0};
  std::string phase;  // what the call was doing, for timeout messages

  void abort_io() {
    error_code ignored;
    resolver.cancel();
    pause.cancel();
    tcp_sock.close(ignored);
    unix_sock.close(ignored);
    connected = false;
    buffer.clear();
  }

  // (Re)starts the deadline: when it passes, the socket is closed and every pending operation
  // completes with an error that fail() turns into kTimeout.
  void arm(std::chrono::milliseconds budget) {
    armed_for = budget;
    timed_out = false;
    deadline = Clock::now() + budget;
    timer.expires_at(deadline);
    timer.async_wait([this, id = call_id](error_code ec) {
      if (ec || id != call_id || timer.expiry() > Clock::now()) return;  // stale or re-armed
      timed_out = true;
      abort_io();
    });
  }

  Error fail(ErrorCode code, std::string detail) {
    if (cancelled) return Error{ErrorCode::kCancelled, "stop requested", 0};
    if (timed_out) {
      return Error{ErrorCode::kTimeout,
                   "no answer within " + std::to_string(armed_for.count()) + " ms while " + phase +
                       " (" + ep.peer() + ")",
                   0};
    }
    return Error{code, std::move(detail), 0};
  }

  Error io_error(const error_code& ec) {
    if (is_peer_gone(ec)) return fail(ErrorCode::kConnectionClosed, ep.peer() + " while " + phase);
    if (ec == http::error::body_limit) {
      return fail(ErrorCode::kBodyTooLarge,
                  "more than " + std::to_string(opts.max_body_bytes) + " bytes");
    }
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category()) {
      return fail(ErrorCode::kProtocol, "bad HTTP from " + ep.peer() + ": " + ec.message());
    }
    return fail(ErrorCode::kConnectionClosed, ep.peer() + ": " + ec.message());
  }

  Error connect_error(const error_code& ec) {
    if (ec == asio::error::connection_refused) {
      return fail(ErrorCode::kConnectionRefused, ep.peer());
    }
    if (ep.transport == Transport::kUnix && ec == boost::system::errc::no_such_file_or_directory) {
      return fail(ErrorCode::kConnectionRefused, "no socket at " + ep.peer());
    }
    return fail(ErrorCode::kConnectFailed, ep.peer() + ": " + ec.message());
  }

  asio::awaitable<Result<void>> connect() {
    phase = "connecting";
    buffer.clear();
    if (ep.transport == Transport::kUnix) {
      if (ep.socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
        co_return fail(ErrorCode::kConnectFailed, "socket path too long: " + ep.socket_path);
      }
      auto [ec] = co_await unix_sock.async_connect(
          asio::local::stream_protocol::endpoint(ep.socket_path), kTuple);
      if (ec) co_return connect_error(ec);
    } else {
      phase = "resolving";
      auto [rec, results] = co_await resolver.async_resolve(ep.host, ep.port, kTuple);
      if (rec) co_return fail(ErrorCode::kResolveFailed, ep.host + ": " + rec.message());
      phase = "connecting";
      auto [ec, peer] = co_await asio::async_connect(tcp_sock, results, kTuple);
      if (ec) co_return connect_error(ec);
      error_code ignored;
      tcp_sock.set_option(tcp::no_delay(true), ignored);
    }
    connected = true;
    if (cancelled) co_return fail(ErrorCode::kCancelled, {});  // stop arrived while connecting
    co_return Result<void>{};
  }

  Error wrong_node(std::string_view what, std::string_view got) const {
    std::string detail = got.empty() ? std::string(what) + " without a Node-Name header"
                                     : std::string(what) + " from node " + quoted_node(got);
    detail += ", expected " + quoted_node(opts.expected_node) + " (" + ep.url + ")";
    return Error{ErrorCode::kWrongNode, std::move(detail), 0};
  }

  // The locality check on an answer's Node-Name header (ClientOptions::expected_node).
  Result<void> check_header(std::string_view node_name, std::string_view what) const {
    if (opts.expected_node.empty() || node_name == opts.expected_node) return {};
    return wrong_node(what, node_name);
  }

  // The pause before the next attempt: the backoff with jitter, drawn from [d/2, d].
  std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
    if (d.count() <= 1) return d;
    std::uniform_int_distribution<long> pick(d.count() / 2, d.count());
    return std::chrono::milliseconds(pick(rng));
  }

  // Decides whether the failed attempt `attempt` is repeated within the deadline, and waits for
  // it. False: give up and return the last result.
  asio::awaitable<bool> pause_before_retry(int attempt, const Error& why,
                                           std::chrono::milliseconds& backoff) {
    const RetryOptions& ro = opts.retry;
    if (!ro.enabled || timed_out || cancelled) co_return false;
    if (ro.max_attempts > 0 && attempt >= ro.max_attempts) co_return false;
    const auto delay = jittered(backoff);
    backoff = std::min(backoff * 2, std::max(ro.max_backoff, ro.initial_backoff));
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (delay >= remaining) co_return false;  // never pause beyond the deadline
    if (ro.on_retry) ro.on_retry(RetryEvent{attempt, why, delay, remaining});
    co_await sleep(delay);
    co_return !timed_out && !cancelled;
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds delay) {
    if (phase.find("wait") == std::string::npos) phase = "waiting to retry";
    pause.expires_after(delay);
    co_await pause.async_wait(kTuple);
  }

  http::request<http::empty_body> make_request(std::string_view path, std::string_view accept) {
    http::request<http::empty_body> req{http::verb::get, ep.prefix + std::string(path), 11};
    req.set(http::field::host, ep.host_header());
    req.set(http::field::user_agent, opts.user_agent);
    req.set(http::field::accept, accept);
    return req;
  }

  // One request and its response. `retryable`: the peer went away before any byte of the
  // response (so it did not act on the request). `retry_after`: the answer had Retry-After.
  template <class Socket>
  asio::awaitable<Result<HttpResponse>> exchange(Socket& sock,
                                                 const http::request<http::empty_body>& req,
                                                 bool& retryable, bool& retry_after) {
    retryable = false;
    retry_after = false;
    phase = "sending the request";
    auto [wec, wn] = co_await http::async_write(sock, req, kTuple);
    if (wec) {
      retryable = is_peer_gone(wec);
      co_return io_error(wec);
    }
    phase = "reading the response";
    http::response_parser<http::string_body> parser;
    parser.body_limit(opts.max_body_bytes);
    auto [rec, rn] = co_await http::async_read(sock, buffer, parser, kTuple);
    if (rec) {
      retryable = is_peer_gone(rec) && !parser.got_some();
      co_return io_error(rec);
    }
    auto& res = parser.get();
    if (!res.keep_alive()) abort_io();
    HttpResponse out;
    out.status = res.result_int();
    out.content_type = std::string(res[http::field::content_type]);
    out.node_name = std::string(res["Node-Name"]);
    out.body = std::move(res.body());
    retry_after = res.count(http::field::retry_after) > 0;
    co_return out;
  }

  // One attempt: connect if needed, send, read. A kept-alive connection may have been closed by
  // the agent since the last call; then the GET is repeated at once on a fresh connection (safe:
  // GET is idempotent). `transient`: the failure is one RetryOptions retries.
  asio::awaitable<Result<HttpResponse>> attempt_get(const http::request<http::empty_body>& req,
                                                    bool& transient) {
    transient = false;
    for (int stale = 0; stale < 2; ++stale) {
      bool reused = connected;
      if (!connected) {
        auto c = co_await connect();
        if (!c) {
          transient = c.error().code == ErrorCode::kConnectionRefused;
          co_return c.error();
        }
      }
      bool retryable = false;
      bool retry_after = false;
      // (No co_await inside ?: - GCC 12 miscompiles it and double-frees the result.)
      Result<HttpResponse> r = Error{};
      if (ep.transport == Transport::kUnix) {
        r = co_await exchange(unix_sock, req, retryable, retry_after);
      } else {
        r = co_await exchange(tcp_sock, req, retryable, retry_after);
      }
      if (r) {
        transient = not_ready(*r, retry_after);
        co_return r;
      }
      abort_io();
      if (!(reused && retryable) || timed_out || cancelled) {
        transient = retryable && !timed_out && !cancelled;
        co_return r;
      }
    }
    co_return fail(ErrorCode::kConnectionClosed, ep.peer());
  }

  asio::awaitable<Result<HttpResponse>> get(std::string path, std::string accept) {
    auto req = make_request(path, accept);
    auto backoff = opts.retry.initial_backoff;
    std::optional<Result<HttpResponse>> previous;
    for (int attempt = 1;; ++attempt) {
      bool transient = false;
      Result<HttpResponse> r = co_await attempt_get(req, transient);
      // The deadline ended during a retry: the earlier attempt's answer says more than "timeout".
      if (timed_out && !cancelled && previous) co_return std::move(*previous);
      if (r) {
        if (auto local = check_header(r->node_name, "answer"); !local) {
          abort_io();  // the next call asks afresh (a Service may pick another endpoint)
          co_return local.error();
        }
      }
      if (!transient) co_return r;
      const Error why = r ? bad_status(ep, path, *r) : r.error();
      if (!co_await pause_before_retry(attempt, why, backoff)) {
        if (cancelled) co_return fail(ErrorCode::kCancelled, {});
        co_return r;
      }
      previous = std::move(r);
    }
  }

  // How one stream connection ended, for watch()'s decision to retry or reconnect.
  struct StreamEnd {
    bool opened = false;     // the 2xx text/event-stream header arrived
    bool transient = false;  // a new connection may cure it
  };

  // One stream connection: request, header, then events until the callback stops or it breaks.
  template <class Socket>
  asio::awaitable<Result<void>> stream(Socket& sock, const SseParser::OnEvent& cb,
                                       const WatchOptions& wo, StreamEnd& end,
                                       std::optional<long>& server_retry) {
    auto req = make_request(wo.path, "text/event-stream");
    req.set(http::field::cache_control, "no-cache");
    phase = "sending the request";
    auto [wec, wn] = co_await http::async_write(sock, req, kTuple);
    if (wec) {
      end.transient = is_peer_gone(wec);
      co_return io_error(wec);
    }
    phase = "waiting for the stream to start";
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [hec, hn] = co_await http::async_read_header(sock, buffer, parser, kTuple);
    if (hec) {
      end.transient = is_peer_gone(hec) && !parser.got_some();
      co_return io_error(hec);
    }
    auto& res = parser.get();
    if (auto local = check_header(res["Node-Name"], "stream"); !local) co_return local.error();
    if (!is_2xx(res.result_int())) {
      HttpResponse head;
      head.status = res.result_int();
      head.content_type = std::string(res[http::field::content_type]);
      // The reason of a short error answer, for the message and the not-ready rule.
      if (auto length = parser.content_length(); length && *length <= 300) {
        std::string body(static_cast<std::size_t>(*length), '\0');
        res.body().data = body.data();
        res.body().size = body.size();
        auto [bec, bn] = co_await http::async_read(sock, buffer, parser, kTuple);
        if (!bec || bec == http::error::need_buffer) {
          body.resize(body.size() - res.body().size);
          head.body = std::move(body);
        }
      }
      end.transient = not_ready(head, res.count(http::field::retry_after) > 0);
      co_return bad_status(ep, wo.path, head);
    }
    std::string_view type = res[http::field::content_type];
    if (!type.starts_with("text/event-stream")) {
      co_return Error{ErrorCode::kProtocol,
                      "expected text/event-stream, got \"" + std::string(type) + "\"", 0};
    }
    end.opened = true;
    // Every event must name the expected node; the first that does not ends the stream.
    const auto checked = [&](const SseEvent& ev) -> Result<bool> {
      if (!opts.expected_node.empty()) {
        auto node = node_of_event(ev.data);
        if (!node) {
          Error none = node.error();
          none.detail += ", expected " + quoted_node(opts.expected_node) + " (" + ep.url + ")";
          return none;
        }
        if (*node != opts.expected_node) return wrong_node("event", *node);
      }
      return cb(ev);
    };
    SseParser sse;
    char chunk[8192];
    phase = "waiting for the next event";
    for (;;) {
      if (cancelled) co_return fail(ErrorCode::kCancelled, {});
      // Any bytes, heartbeat comments and retry: fields included, restart the idle limit.
      arm(wo.idle_timeout);
      res.body().data = chunk;
      res.body().size = sizeof chunk;
      auto [ec, n] = co_await http::async_read_some(sock, buffer, parser, kTuple);
      if (ec == http::error::need_buffer) ec = {};
      std::size_t got = sizeof chunk - res.body().size;
      Result<bool> more = true;
      if (got > 0) more = sse.feed({chunk, got}, checked);
      if (sse.retry_ms()) server_retry = sse.retry_ms();
      if (!more) {
        // A broken stream (kProtocol) or the callback's error (kWrongNode, or the caller's own):
        // a new connection would not cure it.
        end.transient = false;
        co_return more.error();
      }
      if (!*more) co_return Result<void>{};  // the callback asked to stop
      end.transient = true;  // from here on, every way the stream breaks is worth reconnecting
      if (ec) co_return io_error(ec);
      if (parser.is_done()) {
        co_return fail(ErrorCode::kConnectionClosed, "the agent ended the stream");
      }
    }
  }

  asio::awaitable<Result<void>> stream_once(const SseParser::OnEvent& cb, const WatchOptions& wo,
                                            StreamEnd& end, std::optional<long>& server_retry) {
    abort_io();  // the stream needs a connection of its own
    auto c = co_await connect();
    if (!c) {
      end.transient = c.error().code == ErrorCode::kConnectionRefused;
      co_return c.error();
    }
    Result<void> r;
    if (ep.transport == Transport::kUnix) {
      r = co_await stream(unix_sock, cb, wo, end, server_retry);
    } else {
      r = co_await stream(tcp_sock, cb, wo, end, server_retry);
    }
    abort_io();  // a stream's connection cannot be reused
    co_return r;
  }

  // The pause before reconnecting (WatchOptions::reconnect): the server's retry: (or the
  // configured delay), doubled per failed reconnection, capped, plus up to a quarter of jitter.
  std::chrono::milliseconds reconnect_pause(const WatchOptions& wo,
                                            std::optional<long> server_retry, int failures) {
    const auto cap = std::max(wo.max_reconnect_delay, std::chrono::milliseconds(1));
    auto d = server_retry ? std::chrono::milliseconds(*server_retry) : wo.reconnect_delay;
    d = std::clamp(d, std::chrono::milliseconds(0), cap);
    for (int i = 0; i < failures && d < cap; ++i) d = std::min(d * 2, cap);
    if (d.count() >= 4) {
      std::uniform_int_distribution<long> extra(0, d.count() / 4);
      d += std::chrono::milliseconds(extra(rng));
    }
    return std::min(d, cap);
  }

  asio::awaitable<Result<void>> watch(const SseParser::OnEvent& cb, const WatchOptions& wo) {
    std::optional<long> server_retry;  // the stream's retry:, kept across connections
    bool ever_opened = false;
    int failures = 0;  // reconnection attempts that failed in a row
    auto backoff = opts.retry.initial_backoff;
    std::optional<Error> previous;  // of the first connection's attempts
    for (int attempt = 1;; ++attempt) {
      StreamEnd end;
      Result<void> r = co_await stream_once(cb, wo, end, server_retry);
      if (r || cancelled || r.error().code == ErrorCode::kCancelled) co_return r;
      if (!ever_opened && !end.opened) {
        // Still the first connection: retried like a GET, within the client's timeout.
        if (timed_out && previous) co_return *previous;
        if (!end.transient || !co_await pause_before_retry(attempt, r.error(), backoff)) {
          if (cancelled) co_return fail(ErrorCode::kCancelled, {});
          co_return r;
        }
        previous = r.error();
        continue;
      }
      ever_opened = true;
      if (!wo.reconnect) co_return r;
      const boost::system::error_code code = r.error().code;
      const bool curable = end.transient || code == ErrorCode::kConnectionRefused ||
                           code == ErrorCode::kConnectFailed || code == ErrorCode::kResolveFailed ||
                           code == ErrorCode::kTimeout || code == ErrorCode::kConnectionClosed;
      if (!curable || code == ErrorCode::kWrongNode) co_return r;
      failures = end.opened ? 0 : failures + 1;
      const auto delay = reconnect_pause(wo, server_retry, failures);
      if (wo.on_disconnect) wo.on_disconnect(r.error(), delay);
      timer.cancel();  // no deadline while waiting to reconnect
      phase = "waiting to reconnect";
      co_await sleep(delay);
      if (cancelled) co_return fail(ErrorCode::kCancelled, {});
      arm(opts.timeout);  // the next connection gets the client's timeout
    }
  }

  template <class T>
  Result<T> run(asio::awaitable<Result<T>> op, std::chrono::milliseconds budget) {
    ++call_id;
    timed_out = false;
    cancelled = false;
    std::optional<Result<T>> out;
    arm(budget);
    asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, Result<T> r) {
      timer.cancel();  // lets run() return
      if (e) {
        abort_io();
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          out.emplace(Error{ErrorCode::kProtocol, std::string("internal error: ") + ex.what(), 0});
        }
      } else {
        out.emplace(std::move(r));
      }
    });
    ioc.restart();
    ioc.run();
    if (!out) return Error{ErrorCode::kProtocol, "internal error: call did not complete", 0};
    return std::move(*out);
  }

  // run() that `stop` can end from any thread: the io_context is only touched through post().
  template <class T>
  Result<T> run(asio::awaitable<Result<T>> op, std::chrono::milliseconds budget,
                std::stop_token stop) {
    if (stop.stop_requested()) return Error{ErrorCode::kCancelled, "stop requested", 0};
    std::uint64_t id = call_id + 1;  // the id run() is about to assign
    std::stop_callback on_stop(stop, [this, id] {
      asio::post(ioc, [this, id] {
        if (call_id != id) return;
        cancelled = true;
        abort_io();
      });
    });
    return run(std::move(op), budget);
  }
};

Client::Client(Endpoint endpoint, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const Endpoint& Client::endpoint() const { return impl_->ep; }
const ClientOptions& Client::options() const { return impl_->opts; }

Result<HttpResponse> Client::get(std::string_view path, std::string_view accept) {
  return impl_->run(impl_->get(std::string(path), std::string(accept)), impl_->opts.timeout);
}

Error bad_status(const Endpoint& endpoint, std::string_view path, const HttpResponse& response) {
  std::string detail = "GET " + endpoint.prefix + std::string(path);
  std::string_view line = std::string_view(response.body).substr(0, response.body.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  // Quoted through printable(): the agent's reason may carry any byte.
  if (response.content_type.rfind("text/plain", 0) == 0 && !line.empty() && line.size() <= 300) {
    detail += ": ";
    detail += printable(line);
  }
  return Error{ErrorCode::kBadStatus, std::move(detail), response.status};
}

Result<std::string> Client::text(std::stop_token stop) {
  auto r = impl_->run(impl_->get("/", "text/plain"), impl_->opts.timeout, stop);
  if (!r) return r.error();
  if (r->status < 200 || r->status > 299) {
    return bad_status(impl_->ep, "/", *r);
  }
  std::string body = std::move(r->body);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  if (body.empty()) return Error{ErrorCode::kUnparsableBody, "empty text line", 0};
  if (body.find('\n') != std::string::npos) {
    return Error{ErrorCode::kUnparsableBody, "expected one line, got several", 0};
  }
  return body;
}

Result<NodeSnapshot> Client::node() {
  auto r = get("/v1/node", "application/json");
  if (!r) return r.error();
  if (r->status < 200 || r->status > 299) {
    return bad_status(impl_->ep, "/v1/node", *r);
  }
  auto doc = parse_node_json(r->body);
  if (doc && !impl_->opts.expected_node.empty() && doc->node != impl_->opts.expected_node) {
    return impl_->wrong_node("document", doc->node);
  }
  return doc;
}

Result<void> Client::watch(const SseParser::OnEvent& on_event, std::stop_token stop,
                           const WatchOptions& options) {
  return impl_->run(impl_->watch(on_event, options), impl_->opts.timeout, stop);
}

void Client::close() { impl_->abort_io(); }

}  // namespace nodeagent::client
