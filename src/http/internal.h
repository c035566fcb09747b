#pragma once
// Private to nodeagent_http: the per-thread worker, the connection session and the request parser.
// Everything here except Feed subscription callbacks runs on one worker's event-loop thread.

#include <array>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/feed.h"
#include "http/request.h"
#include "http/request_reader.h"
#include "http/response.h"
#include "http/server.h"

namespace nodeagent::http::detail {

using Clock = std::chrono::steady_clock;
using Executor = boost::asio::io_context::executor_type;
// Concrete executor type (not any_io_executor): no type erasure on the per-request path.
using Socket = boost::asio::basic_stream_socket<boost::asio::generic::stream_protocol, Executor>;

// Returns an error_code whose message() is "<context>: <ec.message()>" and which still compares
// equal to the same conditions as `ec` (e.g. std::errc::permission_denied).
boost::system::error_code annotate(std::string_view context, boost::system::error_code ec);

// State every session shares; owned by Server::Impl.
struct Shared {
  Limits limits;
  std::string node_field;    // "Node-Name: n1\r\n" or empty
  std::string sse_preamble;  // "retry: 1000\n\n": first bytes of every stream
  Clock::duration sse_heartbeat;
  const nodeagent::Clock* clock = &real_clock();
  Handler handler;
  ServerStats stats;
  std::atomic<bool> stopping{false};
  // stop_after(): still serving, but every response closes its connection.
  std::atomic<bool> closing{false};

  bool closing_connections() const {
    return stopping.load(std::memory_order_relaxed) || closing.load(std::memory_order_relaxed);
  }
};

class Session;

// One event loop: io_context, the sessions living on it, a coarse clock and a periodic sweep
// that enforces every session's deadline (one timer per loop instead of one per connection, so
// the request path never touches the timer queue).
class Worker {
 public:
  explicit Worker(Shared& shared);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& ioc() { return ioc_; }
  void run();  // on the thread that serves this loop

  void add(Session* session);
  void remove(Session* session);
  void begin_drain();
  bool draining() const { return draining_; }

  Clock::time_point now() const { return now_; }
  Clock::duration tick() const { return tick_; }
  std::string_view date() const { return {date_.data(), date_len_}; }
  void count_request() {
    requests_.store(requests_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  void arm();
  void on_tick(boost::system::error_code ec);
  void update_clock();

  Shared& shared_;
  std::vector<Session*> sessions_;  // declared before ioc_: outlives handlers that own sessions
  boost::asio::io_context ioc_{1};
  boost::asio::steady_timer timer_{ioc_};
  Clock::duration tick_;
  Clock::time_point now_;
  std::time_t date_second_ = -1;
  std::array<char, 40> date_{};
  std::size_t date_len_ = 0;
  bool draining_ = false;
  bool destroying_ = false;  // ~io_context destroys sessions; the timer is already gone
  Clock::time_point drain_deadline_;
  // Single writer (this loop); its own cache line so loops do not contend on the hot counter.
  alignas(64) std::atomic<std::uint64_t> requests_{0};
};

// One connection. Owned by shared_ptrs held in pending completion handlers; the worker's list
// holds a raw pointer that the destructor removes.
class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(Shared& shared, Worker& worker, Socket socket, RemoteAddress remote, bool tcp);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();
  void on_tick(Clock::time_point now);
  void begin_drain();
  void force_close();
  void pump_stream();  // the feed has news

  std::size_t index = 0;  // position in the worker's list

 private:
  // kWaiting: the handler deferred its answer (Response::deferred) and the session waits for it.
  enum class State { kReading, kWaiting, kWriting, kStreaming, kLingering, kClosed };

  bool request_started() const;
  void next_request();
  void parse_or_read();
  void on_read(boost::system::error_code ec, std::size_t n);
  void on_parse_error(boost::system::error_code ec);
  void handle_request();
  void send_error(unsigned status, std::string_view body, bool head = false);
  void respond(bool head, bool close);
  void defer(bool head, bool close);
  void on_deferred(Response response, bool head, bool close);
  void serialize_head(bool close, bool stream);  // into head_
  void write_response(bool head, bool close);
  void on_write(boost::system::error_code ec);
  void start_stream(bool head);
  void write_stream(std::shared_ptr<const std::string> chunk, bool with_header);
  void write_heartbeat();
  // SSE backpressure, while a write is stuck and news waits: true (and the stream dropped) when
  // the kernel holds more than Limits::stream_backlog_bytes unsent for this watcher.
  bool drop_if_behind();
  void on_stream_write(boost::system::error_code ec);
  void end_stream();
  void linger();
  void discard_read();
  void close();

  Shared& shared_;
  Worker& worker_;
  Socket socket_;
  const RemoteAddress remote_;
  const bool tcp_;
  bool registered_ = false;
  State state_ = State::kReading;
  Clock::time_point deadline_;
  bool idle_ = false;       // kReading: waiting for the first byte of a keep-alive request
  bool timed_out_ = false;  // kReading: the sweep cancelled the read
  bool draining_ = false;
  bool close_after_write_ = false;
  bool stream_writing_ = false;
  bool stream_counted_ = false;
  unsigned version_ = 11;

  boost::beast::flat_buffer buffer_;
  RequestReader reader_;
  std::string head_;
  Response response_;

  std::shared_ptr<Feed> feed_;
  std::shared_ptr<Feed::Subscriber> subscriber_;
  std::shared_ptr<const std::string> chunk_in_flight_;
  std::uint64_t sent_sequence_ = 0;
  std::array<char, 512> discard_{};  // sink for input we ignore (linger, SSE)

  // --log-level debug: one line per answered request. Filled only when debug is enabled.
  void note_request(std::string_view method, std::string_view target);
  void log_request(std::uint64_t bytes);
  bool log_pending_ = false;
  std::string log_method_;
  std::string log_target_;
  Clock::time_point log_started_;
};

}  // namespace nodeagent::http::detail
