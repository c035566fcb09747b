#pragma once
// A scripted HTTP peer for client tests: it can answer, stay silent, send garbage or hang up,
// which a well-behaved server library cannot be asked to do. Listens on 127.0.0.1:0 and
// optionally on a unix socket; runs one io_context on its own thread.

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
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

  static Action reply(std::string bytes) { return {Kind::kReply, std::move(bytes)}; }
  static Action reply_and_close(std::string bytes) {
    return {Kind::kReplyAndClose, std::move(bytes)};
  }
  static Action close() { return {Kind::kClose, {}}; }
  // Writes `bytes` (maybe none) and keeps the connection open without reading or answering.
  static Action hang(std::string bytes = {}) { return {Kind::kHang, std::move(bytes)}; }
};

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

  explicit FakeServer(Script script, std::string unix_path = {})
      : script_(std::move(script)), unix_path_(std::move(unix_path)) {
    namespace asio = boost::asio;
    tcp_.open(asio::ip::tcp::v4());
    tcp_.set_option(asio::socket_base::reuse_address(true));
    tcp_.bind({asio::ip::make_address("127.0.0.1"), 0});
    tcp_.listen();
    port_ = tcp_.local_endpoint().port();
    asio::co_spawn(ioc_, accept_loop(tcp_), asio::detached);
    if (!unix_path_.empty()) {
      std::filesystem::remove(unix_path_);
      unix_.open();
      unix_.bind(asio::local::stream_protocol::endpoint(unix_path_));
      unix_.listen();
      asio::co_spawn(ioc_, accept_loop(unix_), asio::detached);
    }
    thread_ = std::thread([this] { ioc_.run(); });
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
  boost::asio::ip::tcp::acceptor tcp_{ioc_};
  boost::asio::local::stream_protocol::acceptor unix_{ioc_};
  unsigned short port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::vector<std::shared_ptr<void>> held_;  // only touched on the io thread
  std::thread thread_;
};

}  // namespace nodeagent::testing
