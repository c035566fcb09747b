#pragma once
// A scripted HTTP peer for client tests: it can answer, stay silent, send garbage, hang up or
// trickle a stream, which a well-behaved server library cannot be asked to do. Listens on
// 127.0.0.1:0 and optionally on a unix socket - or, constructed with Listen::kLater, refuses
// every connection (TCP port bound but not listening, no socket file) until start_listening().
// Runs one io_context on its own thread. Like the agent it can name its node: put
// node_header("n1") into the extra headers of http_response() / the SSE head.

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nodeagent::testing {

struct Action {
  enum class Kind { kReply, kReplyAndClose, kClose, kHang };
  Kind kind = Kind::kReply;
  std::string bytes;  // written as is (status line, headers, body)
  // Written after `bytes`, each after its pause (a stream's later events, heartbeats).
  std::vector<std::pair<std::chrono::milliseconds, std::string>> later;

  static Action reply(std::string bytes) { return {Kind::kReply, std::move(bytes), {}}; }
  static Action reply_and_close(std::string bytes) {
    return {Kind::kReplyAndClose, std::move(bytes), {}};
  }
  static Action close() { return {Kind::kClose, {}, {}}; }
  // Writes `bytes` (maybe none) and keeps the connection open without reading or answering.
  static Action hang(std::string bytes = {}) { return {Kind::kHang, std::move(bytes), {}}; }
  // Adds bytes written `pause` after the previous ones (the action then goes on as its kind).
  Action then(std::chrono::milliseconds pause, std::string more) && {
    later.emplace_back(pause, std::move(more));
    return std::move(*this);
  }
};

// The agent's locality header, for http_response()'s extra_headers.
inline std::string node_header(std::string_view node) {
  return "Node-Name: " + std::string(node) + "\r\n";
}

inline std::string http_response(unsigned status, std::string_view type, std::string_view body,
                                 std::string_view extra_headers = "") {
  std::string out = "HTTP/1.1 " + std::to_string(status) +
                    " X\r\nContent-Type: " + std::string(type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                    std::string(extra_headers) + "\r\n";
  out.append(body);
  return out;
}

class FakeServer {
 public:
  // target: the request target; index: 1 for the first request this server sees.
  using Script = std::function<Action(const std::string& target, int index)>;

  enum class Listen { kNow, kLater };

  explicit FakeServer(Script script, std::string unix_path = {}, Listen when = Listen::kNow)
      : script_(std::move(script)), unix_path_(std::move(unix_path)) {
    namespace asio = boost::asio;
    tcp_.open(asio::ip::tcp::v4());
    tcp_.set_option(asio::socket_base::reuse_address(true));
    tcp_.bind({asio::ip::make_address("127.0.0.1"), 0});  // connections refused until listen()
    port_ = tcp_.local_endpoint().port();
    if (!unix_path_.empty()) std::filesystem::remove(unix_path_);
    if (when == Listen::kNow) start_listening();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  // Starts accepting (on the TCP port, and creates the unix socket). Callable from any thread,
  // once, for a server constructed with Listen::kLater.
  void start_listening() {
    namespace asio = boost::asio;
    tcp_.listen();
    asio::co_spawn(ioc_, accept_loop(tcp_), asio::detached);
    if (!unix_path_.empty()) {
      unix_.open();
      unix_.bind(asio::local::stream_protocol::endpoint(unix_path_));
      unix_.listen();
      asio::co_spawn(ioc_, accept_loop(unix_), asio::detached);
    }
  }

  ~FakeServer() {
    ioc_.stop();
    thread_.join();
    if (!unix_path_.empty()) std::filesystem::remove(unix_path_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  unsigned short port() const { return port_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  // Closes every connection the script asked to hold open (a hung-up or restarted agent).
  void drop_held() {
    boost::asio::post(ioc_, [this] { held_.clear(); });
  }

 private:
  template <class Acceptor>
  boost::asio::awaitable<void> accept_loop(Acceptor& acceptor) {
    for (;;) {
      auto [ec, sock] =
          co_await acceptor.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      ++connections_;
      boost::asio::co_spawn(ioc_, session(std::move(sock)), boost::asio::detached);
    }
  }

  template <class Socket>
  boost::asio::awaitable<void> session(Socket sock) {
    namespace http = boost::beast::http;
    constexpr auto tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::empty_body> req;
      auto [ec, n] = co_await http::async_read(sock, buffer, req, tuple);
      if (ec) co_return;
      int index = ++requests_;
      Action a = script_(std::string(req.target()), index);
      if (!a.bytes.empty()) {
        auto [wec, wn] =
            co_await boost::asio::async_write(sock, boost::asio::buffer(a.bytes), tuple);
        if (wec) co_return;
      }
      for (const auto& [pause, more] : a.later) {
        boost::asio::steady_timer timer(ioc_, pause);
        co_await timer.async_wait(tuple);
        auto [wec, wn] = co_await boost::asio::async_write(sock, boost::asio::buffer(more), tuple);
        if (wec) co_return;
      }
      switch (a.kind) {
        case Action::Kind::kReply:
          break;
        case Action::Kind::kReplyAndClose:
        case Action::Kind::kClose:
          co_return;
        case Action::Kind::kHang:
          held_.push_back(std::make_shared<Socket>(std::move(sock)));
          co_return;
      }
    }
  }

  Script script_;
  std::string unix_path_;
  boost::asio::io_context ioc_;
  // Keeps run() going while nothing listens yet (Listen::kLater).
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      ioc_.get_executor()};
  boost::asio::ip::tcp::acceptor tcp_{ioc_};
  boost::asio::local::stream_protocol::acceptor unix_{ioc_};
  unsigned short port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::vector<std::shared_ptr<void>> held_;  // only touched on the io thread
  std::thread thread_;
};

}  // namespace nodeagent::testing
