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
#include <optional>

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

}  // namespace

struct Client::Impl {
  Impl(Endpoint e, ClientOptions o) : ep(std::move(e)), opts(std::move(o)) {}

  Endpoint ep;
  ClientOptions opts;
  asio::io_context ioc{1};  // declared before the I/O objects: destroyed after them
  tcp::resolver resolver{ioc};
  tcp::socket tcp_sock{ioc};
  unix_socket unix_sock{ioc};
  asio::steady_timer timer{ioc};
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
    tcp_sock.close(ignored);
    unix_sock.close(ignored);
    connected = false;
    buffer.clear();
  }

  // (Re)starts the deadline: when it passes, the socket is closed and every pending operation
  // completes with an error that fail() turns into kTimeout.
  void arm(std::chrono::milliseconds budget) {
    armed_for = budget;
    timer.expires_after(budget);
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

  http::request<http::empty_body> make_request(std::string_view path, std::string_view accept) {
    http::request<http::empty_body> req{http::verb::get, ep.prefix + std::string(path), 11};
    req.set(http::field::host, ep.host_header());
    req.set(http::field::user_agent, opts.user_agent);
    req.set(http::field::accept, accept);
    return req;
  }

  template <class Socket>
  asio::awaitable<Result<HttpResponse>> exchange(Socket& sock,
                                                 const http::request<http::empty_body>& req,
                                                 bool& retryable) {
    retryable = false;
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
    out.body = std::move(res.body());
    co_return out;
  }

  asio::awaitable<Result<HttpResponse>> get(std::string path, std::string accept) {
    auto req = make_request(path, accept);
    // A kept-alive connection may have been closed by the agent since the last call; then the
    // GET is repeated once on a fresh connection (safe: GET is idempotent).
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connected;
      if (!connected) {
        auto c = co_await connect();
        if (!c) co_return c.error();
      }
      bool retryable = false;
      // (No co_await inside ?: - GCC 12 miscompiles it and double-frees the result.)
      Result<HttpResponse> r = Error{};
      if (ep.transport == Transport::kUnix) {
        r = co_await exchange(unix_sock, req, retryable);
      } else {
        r = co_await exchange(tcp_sock, req, retryable);
      }
      if (r || !(reused && retryable) || timed_out || cancelled) {
        if (!r) abort_io();
        co_return r;
      }
      abort_io();
    }
    co_return fail(ErrorCode::kConnectionClosed, ep.peer());
  }

  template <class Socket>
  asio::awaitable<Result<void>> stream(Socket& sock, const std::function<bool(const SseEvent&)>& cb,
                                       const WatchOptions& wo) {
    auto req = make_request(wo.path, "text/event-stream");
    req.set(http::field::cache_control, "no-cache");
    phase = "sending the request";
    auto [wec, wn] = co_await http::async_write(sock, req, kTuple);
    if (wec) co_return io_error(wec);
    phase = "waiting for the stream to start";
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [hec, hn] = co_await http::async_read_header(sock, buffer, parser, kTuple);
    if (hec) co_return io_error(hec);
    auto& res = parser.get();
    if (res.result_int() < 200 || res.result_int() > 299) {
      co_return Error{ErrorCode::kBadStatus, "GET " + std::string(req.target()), res.result_int()};
    }
    std::string_view type = res[http::field::content_type];
    if (!type.starts_with("text/event-stream")) {
      co_return Error{ErrorCode::kProtocol,
                      "expected text/event-stream, got \"" + std::string(type) + "\"", 0};
    }
    SseParser sse;
    char chunk[8192];
    phase = "waiting for the next event";
    for (;;) {
      if (cancelled) co_return fail(ErrorCode::kCancelled, {});
      arm(wo.idle_timeout);
      res.body().data = chunk;
      res.body().size = sizeof chunk;
      auto [ec, n] = co_await http::async_read_some(sock, buffer, parser, kTuple);
      if (ec == http::error::need_buffer) ec = {};
      std::size_t got = sizeof chunk - res.body().size;
      if (got > 0 && !sse.feed({chunk, got}, cb)) {
        if (!sse.error().empty()) co_return Error{ErrorCode::kProtocol, sse.error(), 0};
        co_return Result<void>{};  // the callback asked to stop
      }
      if (ec) co_return io_error(ec);
      if (parser.is_done()) {
        co_return fail(ErrorCode::kConnectionClosed, "the agent ended the stream");
      }
    }
  }

  asio::awaitable<Result<void>> watch(const std::function<bool(const SseEvent&)>& cb,
                                      const WatchOptions& wo) {
    abort_io();  // the stream needs a connection of its own
    auto c = co_await connect();
    if (!c) co_return c.error();
    Result<void> r;
    if (ep.transport == Transport::kUnix) {
      r = co_await stream(unix_sock, cb, wo);
    } else {
      r = co_await stream(tcp_sock, cb, wo);
    }
    abort_io();  // a stream's connection cannot be reused
    co_return r;
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
  bool quotable =
      response.content_type.rfind("text/plain", 0) == 0 && !line.empty() && line.size() <= 300;
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) quotable = false;
  }
  if (quotable) {
    detail += ": ";
    detail += line;
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
  return parse_node_json(r->body);
}

Result<void> Client::watch(const std::function<bool(const SseEvent&)>& on_event,
                           std::stop_token stop, const WatchOptions& options) {
  return impl_->run(impl_->watch(on_event, options), impl_->opts.timeout, stop);
}

void Client::close() { impl_->abort_io(); }

}  // namespace nodeagent::client
