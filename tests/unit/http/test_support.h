#pragma once
// Blocking test client on raw sockets with poll() deadlines (no test can hang), responses parsed
// with Beast, and a fixture helper that runs a Server on background threads.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "http/server.h"

namespace nodeagent::http::test {

using namespace std::chrono_literals;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

inline constexpr auto kWait = 5s;  // upper bound for anything a test waits for

class Client {
 public:
  static Client tcp(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Client c(fd);
    c.connected_ = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
  }

  static Client unix_socket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    Client c(fd);
    c.connected_ = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    return c;
  }

  Client(Client&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), connected_(o.connected_), raw_(std::move(o.raw_)) {}
  Client& operator=(Client&&) = delete;
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  // False if the peer already closed.
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response (body skipped for HEAD); nullopt on close, timeout or parse error.
  std::optional<HttpResponse> read_response(bool head = false,
                                            std::chrono::milliseconds timeout = kWait) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.eager(true);
    parser.skip(head);
    parser.body_limit(64 << 20);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!raw_.empty()) {
        boost::beast::error_code ec;
        std::size_t used = parser.put(boost::asio::buffer(raw_), ec);
        raw_.erase(0, used);
        if (parser.is_done()) return parser.release();
        if (ec && ec != boost::beast::http::error::need_more) return std::nullopt;
        if (used > 0 && !raw_.empty()) continue;
      }
      int r = receive(deadline);
      if (r == 0) {
        if (parser.got_some()) {
          boost::beast::error_code ec;
          parser.put_eof(ec);
          if (!ec && parser.is_done()) return parser.release();
        }
        return std::nullopt;
      }
      if (r < 0) return std::nullopt;
    }
  }

  // Reads (keeping data in raw()) until pred(raw()) holds; false on close or timeout.
  bool read_until(const std::function<bool(const std::string&)>& pred,
                  std::chrono::milliseconds timeout = kWait) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred(raw_)) {
      if (receive(deadline) <= 0) return pred(raw_);
    }
    return true;
  }
  bool read_until_contains(std::string_view needle, std::chrono::milliseconds timeout = kWait) {
    return read_until(
        [needle](const std::string& s) { return s.find(needle) != std::string::npos; }, timeout);
  }

  // True once the server closed the connection (EOF or reset); data read meanwhile is kept.
  bool wait_closed(std::chrono::milliseconds timeout = kWait) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int r = receive(deadline);
      if (r == 0 || r == -2) return true;
      if (r == -1) return false;
    }
  }

  const std::string& raw() const { return raw_; }
  std::string& raw() { return raw_; }

 private:
  explicit Client(int fd) : fd_(fd) {}

  // >0 bytes read, 0 EOF, -1 timeout, -2 error (e.g. reset).
  int receive(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr == 0) return -1;
    if (pr < 0) return -2;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return -2;
    raw_.append(buf, static_cast<std::size_t>(n));
    return static_cast<int>(n);
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string raw_;
};

// Polls `condition` until it holds or kWait passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);  // polling interval, not a wait for an event
  }
  return true;
}

// How many listening TCP sockets on `port` (IPv4 or IPv6) this process holds, or with
// `anyone`, every process on the machine. Unlike a connect, not fooled by another process (a
// parallel test) that has since bound the same free port, nor by a TCP self-connect.
inline int listeners_on(std::uint16_t port, bool anyone = false) {
  int count = 0;
  std::set<std::string> ours;  // "socket:[inode]" of every descriptor of this process
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fd.path(), ec);
    if (!ec) ours.insert(target.string());
  }
  for (const char* table : {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // column names
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      const auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: TCP_LISTEN
      if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
      if (anyone || ours.count("socket:[" + inode + "]") != 0) ++count;
    }
  }
  return count;
}

inline bool listening_here(std::uint16_t port) { return listeners_on(port) > 0; }

inline ServerOptions tcp_options() {
  ServerOptions o;
  o.listen.push_back(*parse_listen_address("127.0.0.1:0"));
  o.threads = 2;
  return o;
}

// A Server running on background threads for the duration of a test.
class RunningServer {
 public:
  RunningServer(ServerOptions options, Handler handler)
      : server_(std::make_unique<Server>(std::move(options), std::move(handler))) {
    auto r = server_->listen();
    if (!r) throw std::runtime_error(r.error().message());
    if (auto started = server_->start(); !started) {
      throw std::runtime_error(started.error().message());
    }
  }
  ~RunningServer() { shutdown(); }

  void shutdown() {
    if (!server_) return;
    server_->stop();
    server_->join();
  }

  Server& server() { return *server_; }
  const ServerStats& stats() { return server_->stats(); }
  std::uint16_t port() const {
    auto name = server_->bound_addresses().at(0);
    return static_cast<std::uint16_t>(std::stoi(name.substr(name.rfind(':') + 1)));
  }
  Client client() const { return Client::tcp(port()); }

 private:
  std::unique_ptr<Server> server_;
};

// Concatenation by appending: GCC 12 reports a false -Wrestrict on some operator+ chains.
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

inline std::string get(std::string_view target, std::string_view extra = {}) {
  std::string r = "GET ";
  r += target;
  r += " HTTP/1.1\r\nHost: test\r\n";
  r += extra;
  r += "\r\n";
  return r;
}

}  // namespace nodeagent::http::test
