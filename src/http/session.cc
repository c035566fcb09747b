#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>

#include "http/header_value.h"
#include "http/internal.h"
#include "http/request_checks.h"
#include "http/response_head.h"
#include "log/log.h"

namespace nodeagent::http::detail {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

namespace {

// After the last response the connection is half-closed and the client's leftovers are read and
// dropped for at most this long, so unread input does not turn our close into a reset that
// destroys the response before the client reads it.
constexpr auto kLinger = std::chrono::seconds(1);
// How long a connection accepted before stop() may take to send its first request once the
// server drains (a node-local client sends it right after connecting).
constexpr auto kFirstRequestGraceOnDrain = std::chrono::milliseconds(500);

class StreamSubscriber final : public Feed::Subscriber,
                               public std::enable_shared_from_this<StreamSubscriber> {
 public:
  StreamSubscriber(Executor executor, std::weak_ptr<Session> session)
      : executor_(executor), session_(std::move(session)) {}

  // Runs on the publisher's thread: it only schedules pump_stream() on the session's loop, at
  // most once until that ran. Only a weak reference crosses threads, so the session is always
  // destroyed on its own loop.
  void on_feed_update() override {
    if (pending_.exchange(true)) return;
    asio::post(executor_, [self = shared_from_this()] {
      self->pending_.store(false);
      if (auto session = self->session_.lock()) session->pump_stream();
    });
  }

 private:
  Executor executor_;
  std::weak_ptr<Session> session_;
  std::atomic<bool> pending_{false};
};

}  // namespace

// ---- Session ------------------------------------------------------------------------------

Session::Session(Shared& shared, Worker& worker, Socket socket, RemoteAddress remote, bool tcp)
    : shared_(shared),
      worker_(worker),
      socket_(std::move(socket)),
      remote_(std::move(remote)),
      tcp_(tcp),
      buffer_(shared.limits.header_bytes + 16384),
      reader_(shared.limits.header_bytes, shared.limits.max_header_count) {}

Session::~Session() {
  if (registered_) worker_.remove(this);
  if (stream_counted_) shared_.stats.streams_open.fetch_sub(1, std::memory_order_relaxed);
  shared_.stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void Session::start() {
  worker_.add(this);
  registered_ = true;
  if (tcp_) {
    error_code ec;
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  }
  deadline_ = worker_.now() + shared_.limits.read_timeout;
  if (worker_.draining()) begin_drain();
  parse_or_read();
}

void Session::next_request() {
  reader_.reset();
  state_ = State::kReading;
  timed_out_ = false;
  if (buffer_.size() == 0) {
    idle_ = true;
    deadline_ = worker_.now() + shared_.limits.idle_timeout;
  } else {
    idle_ = false;
    deadline_ = worker_.now() + shared_.limits.read_timeout;
  }
  parse_or_read();
}

void Session::parse_or_read() {
  // Pipelined requests are already in the buffer: parse them without another read.
  if (buffer_.size() > 0) {
    const auto data = buffer_.data();
    auto step = reader_.put({static_cast<const char*>(data.data()), data.size()});
    buffer_.consume(step.used);
    switch (step.status) {
      case RequestReader::Status::kNeedMore:
        break;
      case RequestReader::Status::kDone:
        handle_request();
        return;
      case RequestReader::Status::kTooLarge:
      case RequestReader::Status::kMalformed:
        on_parse_error(step.error);
        return;
    }
  }
  std::size_t size = boost::beast::read_size(buffer_, 65536);
  if (size == 0) {
    on_parse_error(bhttp::error::header_limit);
    return;
  }
  socket_.async_read_some(
      buffer_.prepare(size),
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void Session::on_read(error_code ec, std::size_t n) {
  if (state_ != State::kReading) return;  // closed meanwhile
  buffer_.commit(n);
  if (timed_out_) {
    // The sweep gave up on this request, even if a last piece arrived meanwhile.
    shared_.stats.request_timeouts.fetch_add(1, std::memory_order_relaxed);
    send_error(408, "request timeout\n");
    return;
  }
  if (ec) {
    close();
    return;
  }
  if (idle_) {
    // First byte of the next request: from now on the whole request must arrive in time.
    idle_ = false;
    deadline_ = worker_.now() + shared_.limits.read_timeout;
  }
  parse_or_read();
}

void Session::note_request(std::string_view method, std::string_view target) {
  log_pending_ = true;
  log_method_.assign(method.substr(0, 32));
  log_target_.assign(target.substr(0, 256));
  log_started_ = Clock::now();
}

void Session::log_request(std::uint64_t bytes) {
  if (!log_pending_) return;
  log_pending_ = false;
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - log_started_);
  log::debug("request", {{"method", log_method_},
                         {"path", log_target_},
                         {"status", response_.status},
                         {"bytes", bytes},
                         {"duration_ms", static_cast<double>(us.count()) / 1000.0},
                         {"peer", remote_.to_string()}});
}

void Session::on_parse_error(error_code ec) {
  if (log::enabled(log::Level::kDebug)) note_request("-", "-");
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    shared_.stats.header_too_large.fetch_add(1, std::memory_order_relaxed);
    send_error(431, "request header fields too large\n");
  } else {
    shared_.stats.bad_requests.fetch_add(1, std::memory_order_relaxed);
    log::debug("bad request", {{"remote", remote_.to_string()}, {"error", ec.message()}});
    send_error(400, "bad request\n");
  }
}

void Session::handle_request() {
  worker_.count_request();
  Request& request = reader_.request();
  request.remote = remote_;
  version_ = request.version;

  if (log::enabled(log::Level::kDebug)) note_request(request.method_string, request.target);
  const bool head = request.method == bhttp::verb::head;
  if (auto rejection = check_request(request)) {
    auto& counter = rejection->reason == Rejection::Reason::kBody ? shared_.stats.body_rejected
                                                                  : shared_.stats.bad_requests;
    counter.fetch_add(1, std::memory_order_relaxed);
    log::debug("request refused",
               {{"remote", remote_.to_string()}, {"reason", std::string(rejection->body)}});
    send_error(rejection->status, rejection->body, head);
    return;
  }

  try {
    response_ = shared_.handler(request);
  } catch (const std::exception& e) {
    shared_.stats.handler_errors.fetch_add(1, std::memory_order_relaxed);
    log::error("request handler failed",
               {{"target", std::string(request.target)}, {"error", e.what()}});
    response_ = Response::static_text(500, "internal server error\n");
  } catch (...) {
    shared_.stats.handler_errors.fetch_add(1, std::memory_order_relaxed);
    log::error("request handler failed", {{"target", std::string(request.target)}});
    response_ = Response::static_text(500, "internal server error\n");
  }
  // A body we did not read (non-GET methods) makes the connection unusable for another request.
  const bool close = !request.keep_alive || request.has_body || response_.close || draining_ ||
                     shared_.closing_connections();
  if (response_.deferred()) {
    defer(head, close);
  } else {
    respond(head, close);
  }
}

void Session::respond(bool head, bool close) {
  // 1xx would announce a second response that never comes; no interim responses here.
  if (response_.status < 200 || response_.status > 999 || response_.deferred()) {
    log::error("handler returned an invalid response", {{"status", response_.status}});
    response_ = Response::static_text(500, "internal server error\n");
  }
  if (response_.stream()) {
    start_stream(head);
  } else {
    write_response(head, close);
  }
}

void Session::defer(bool head, bool close) {
  auto start = std::move(std::get<Response::Deferred>(response_.content).start);
  response_ = Response{};
  state_ = State::kWaiting;
  deadline_ = worker_.now() + shared_.limits.send_timeout;
  // While waiting, the session is owned by this pending wait (as by a read otherwise), so server
  // shutdown destroys it with the loop; `respond` holds only a weak reference and hands the
  // answer to the loop, where the session is touched and, if need be, destroyed.
  socket_.async_wait(asio::socket_base::wait_error, [self = shared_from_this()](error_code ec) {
    if (!ec && self->state_ == State::kWaiting) self->close();
  });
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Response::Respond respond = [weak = weak_from_this(), ex = socket_.get_executor(), answered, head,
                               close](Response r) {
    if (answered->exchange(true)) return;
    asio::post(ex, [weak, head, close, r = std::move(r)]() mutable {
      if (auto self = weak.lock()) self->on_deferred(std::move(r), head, close);
    });
  };
  try {
    start(respond);
  } catch (const std::exception& e) {
    shared_.stats.handler_errors.fetch_add(1, std::memory_order_relaxed);
    log::error("deferred request handler failed", {{"error", e.what()}});
    respond(Response::static_text(500, "internal server error\n"));
  }
}

void Session::on_deferred(Response response, bool head, bool close) {
  if (state_ != State::kWaiting) return;  // timed out or force-closed meanwhile
  error_code ec;
  socket_.cancel(ec);  // the ownership wait; its handler sees operation_aborted
  response_ = std::move(response);
  respond(head, close || response_.close || draining_ || shared_.closing_connections());
}

void Session::send_error(unsigned status, std::string_view body, bool head) {
  response_ = Response::static_text(status, body);
  write_response(head, true);
}

void Session::serialize_head(bool close, bool stream) {
  write_head(response_,
             {.close = close,
              .stream = stream,
              .version = version_,
              .date = worker_.date(),
              .node_field = shared_.node_field},
             head_);
}

void Session::write_response(bool head, bool close) {
  serialize_head(close, false);
  close_after_write_ = close;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::const_buffer()};
  if (!head && body_allowed(response_.status)) {
    buffers[1] = asio::buffer(response_.body().data(), response_.body().size());
  }
  state_ = State::kWriting;
  deadline_ = worker_.now() + shared_.limits.send_timeout;
  // One gather write: header from the session's reused buffer, body straight from the shared
  // pre-rendered string.
  asio::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, std::size_t n) {
    self->log_request(n);
    self->on_write(ec);
  });
}

void Session::on_write(error_code ec) {
  response_.content = Response::Body{};  // drop the shared body now, not at the next request
  if (state_ != State::kWriting) return;
  if (ec) {
    close();
    return;
  }
  if (close_after_write_ || draining_) {
    linger();
    return;
  }
  next_request();
}

void Session::start_stream(bool head) {
  feed_ = std::move(std::get<Response::Stream>(response_.content).feed);
  response_.content = Response::Body{};
  if (head || draining_ || shared_.stopping.load(std::memory_order_relaxed)) {
    serialize_head(true, true);
    close_after_write_ = true;
    state_ = State::kWriting;
    deadline_ = worker_.now() + shared_.limits.send_timeout;
    asio::async_write(socket_, asio::buffer(head_),
                      [self = shared_from_this()](error_code ec, std::size_t n) {
                        self->log_request(n);
                        self->on_write(ec);
                      });
    return;
  }
  // The response is delimited by the end of the connection: no Content-Length, no chunking.
  serialize_head(false, true);
  log_request(head_.size());  // a stream is logged when it starts
  state_ = State::kStreaming;
  {
    // No autotuning to megabytes: a watcher that stops reading pins at most this much.
    error_code ec;
    socket_.set_option(
        asio::socket_base::send_buffer_size(static_cast<int>(shared_.limits.stream_backlog_bytes)),
        ec);
  }
  stream_counted_ = true;
  shared_.stats.streams_open.fetch_add(1, std::memory_order_relaxed);
  subscriber_ = std::make_shared<StreamSubscriber>(socket_.get_executor(), weak_from_this());
  // Subscribe before reading the latest chunk so no publish falls in between.
  feed_->subscribe(subscriber_);
  Feed::Chunk latest = feed_->latest();
  sent_sequence_ = latest.sequence;
  write_stream(latest.data, true);
  // Keep a read pending to notice a client that goes away between chunks.
  discard_read();
}

void Session::write_stream(std::shared_ptr<const std::string> chunk, bool with_header) {
  chunk_in_flight_ = std::move(chunk);
  // The first write carries the response head and the `retry:` field before any event.
  std::array<asio::const_buffer, 3> buffers{
      with_header ? asio::buffer(head_) : asio::const_buffer(),
      with_header ? asio::buffer(shared_.sse_preamble) : asio::const_buffer(),
      chunk_in_flight_ ? asio::buffer(*chunk_in_flight_) : asio::const_buffer()};
  stream_writing_ = true;
  deadline_ = worker_.now() + shared_.limits.send_timeout;
  asio::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
    self->on_stream_write(ec);
  });
}

bool Session::drop_if_behind() {
  int unsent = 0;
  if (::ioctl(socket_.native_handle(), SIOCOUTQ, &unsent) != 0) return false;  // not knowable
  if (static_cast<std::size_t>(unsent) <= shared_.limits.stream_backlog_bytes) return false;
  shared_.stats.streams_dropped.fetch_add(1, std::memory_order_relaxed);
  log::debug(
      "stream dropped: watcher too far behind",
      {{"remote", remote_.to_string()}, {"unsent_bytes", static_cast<std::int64_t>(unsent)}});
  close();
  return true;
}

void Session::write_heartbeat() {
  // A comment line (ignored by every SSE parser) as a block of its own.
  static const auto kHeartbeat = std::make_shared<const std::string>(": heartbeat\n\n");
  write_stream(kHeartbeat, false);
}

void Session::on_stream_write(error_code ec) {
  stream_writing_ = false;
  chunk_in_flight_.reset();
  // Next heartbeat after this much silence; the sweep runs every tick, so start it one tick
  // early to keep the silence at most sse_heartbeat.
  deadline_ = worker_.now() + std::max(shared_.sse_heartbeat - worker_.tick(), worker_.tick());
  if (state_ != State::kStreaming) return;
  if (ec) {
    close();
    return;
  }
  if (draining_) {
    end_stream();
    return;
  }
  pump_stream();
}

void Session::pump_stream() {
  if (state_ != State::kStreaming) return;
  if (stream_writing_) {
    // A write still waits for room in the socket buffer while news arrives: the watcher does
    // not keep up. Dropped once the kernel holds more than the backlog unsent.
    Feed::Chunk latest = feed_->latest();
    if (latest.data && latest.sequence > sent_sequence_) drop_if_behind();
    return;
  }
  Feed::Chunk latest = feed_->latest();
  if (latest.data && latest.sequence > sent_sequence_) {
    // Chunks published while the previous write was in flight are skipped: a slow client gets
    // the newest state, and memory per client stays at one shared chunk.
    sent_sequence_ = latest.sequence;
    write_stream(std::move(latest.data), false);
    return;
  }
  if (latest.closed) end_stream();
}

void Session::end_stream() {
  if (stream_counted_) {
    stream_counted_ = false;
    shared_.stats.streams_open.fetch_sub(1, std::memory_order_relaxed);
  }
  // The discard read started with the stream is still pending and serves as the linger read.
  state_ = State::kLingering;
  deadline_ = worker_.now() + kLinger;
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
}

void Session::linger() {
  state_ = State::kLingering;
  deadline_ = worker_.now() + kLinger;
  error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_send, ec);
  if (ec) {
    close();
    return;
  }
  discard_read();
}

void Session::discard_read() {
  socket_.async_read_some(
      asio::buffer(discard_), [self = shared_from_this()](error_code ec, std::size_t) {
        if (self->state_ != State::kStreaming && self->state_ != State::kLingering) {
          return;
        }
        if (ec) {
          self->close();
        } else {
          self->discard_read();
        }
      });
}

void Session::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (stream_counted_) {
    stream_counted_ = false;
    shared_.stats.streams_open.fetch_sub(1, std::memory_order_relaxed);
  }
  error_code ec;
  socket_.close(ec);
}

bool Session::request_started() const {
  // Beast consumes a complete request line before the fields arrive, so look at both.
  return buffer_.size() > 0 || reader_.started();
}

void Session::on_tick(Clock::time_point now) {
  if (now < deadline_) return;
  switch (state_) {
    case State::kReading:
      if (idle_) {
        shared_.stats.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        close();
      } else if (!request_started()) {
        // Connected but never sent a byte: nothing to answer.
        shared_.stats.read_timeouts.fetch_add(1, std::memory_order_relaxed);
        close();
      } else if (!timed_out_) {
        shared_.stats.read_timeouts.fetch_add(1, std::memory_order_relaxed);
        timed_out_ = true;
        deadline_ = Clock::time_point::max();
        error_code ec;
        socket_.cancel(ec);  // on_read answers 408
      }
      break;
    case State::kWaiting:  // the deferred answer did not come in time
    case State::kWriting:
      shared_.stats.send_timeouts.fetch_add(1, std::memory_order_relaxed);
      close();
      break;
    case State::kStreaming:
      if (stream_writing_) {
        shared_.stats.send_timeouts.fetch_add(1, std::memory_order_relaxed);
        close();
      } else {
        write_heartbeat();  // silent for sse_heartbeat
      }
      break;
    case State::kLingering:
      close();
      break;
    case State::kClosed:
      break;
  }
}

void Session::begin_drain() {
  draining_ = true;
  switch (state_) {
    case State::kReading: {
      error_code ec;
      if (request_started() || socket_.available(ec) > 0) break;  // in flight: served
      if (idle_) {
        // A keep-alive connection between requests: closing it is what HTTP expects (a client
        // retries on a new one, RFC 9112 section 9.3.1). The read is cancelled rather than the
        // socket closed: if it completed just now, its handler still serves that request.
        socket_.cancel(ec);
      } else {
        // A new connection whose first request has not arrived: its client has just connected
        // to send one, and closing would fail it. It gets a short grace instead.
        deadline_ = std::min(deadline_, worker_.now() + kFirstRequestGraceOnDrain);
      }
      break;
    }
    case State::kStreaming:
      if (!stream_writing_) end_stream();
      break;
    case State::kWaiting:  // on_deferred answers with Connection: close
    case State::kWriting:  // on_write closes after the response
    case State::kLingering:
    case State::kClosed:
      break;
  }
}

void Session::force_close() {
  if (state_ == State::kClosed) return;
  shared_.stats.drain_forced_closes.fetch_add(1, std::memory_order_relaxed);
  close();
}

}  // namespace nodeagent::http::detail
