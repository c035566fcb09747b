// libFuzzer: arbitrary bytes sent to the agent's real request path. One in-process http::Server
// (the agent's default Limits, one event loop) serves the agent's Router over a unix socket; each
// input is written on a fresh connection, the write side is shut, and everything the server
// answers is read until it closes. The oracle: the server always closes, never answers 500 (a
// handler threw) and every byte it sends is a complete, well-framed HTTP/1.x response.
//
// A unix socket (not TCP) so a million short connections leave no TIME_WAIT behind.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "agent/routes.h"
#include "http/server.h"
#include "log/log.h"

namespace {

using namespace nodeagent;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_http_request: %s\n", what.c_str());
  std::abort();
}

struct Harness {
  Harness() {
    log::set_level(log::Level::kError);
    dir = std::filesystem::temp_directory_path() / ("nodeagent-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    path = (dir / "agent.sock").string();

    auto state = std::make_shared<agent::Published>();
    state->ok = true;
    state->sampled_at = std::chrono::steady_clock::now();
    state->text =
        "fuzz-node uptime: 1s, load average: 0.00, 0.00, 0.00, active/total threads: 1/1\n";
    state->json = "{\"node\":\"fuzz-node\"}\n";
    state->metrics = "# TYPE node_load1 gauge\nnode_load1 0\n";
    board.publish(state);
    auto feed = std::make_shared<http::Feed>();
    feed->close();  // streams end at once, so /v1/node/watch answers and closes
    agent::RouteContext context{feed, std::make_shared<const std::string>("{\"uid\":0}\n"),
                                std::chrono::hours(24 * 365)};
    router = std::make_unique<agent::Router>(board, access, std::move(context), counters);

    http::ServerOptions options;
    options.listen = {http::parse_listen_address("unix://" + path).value()};
    options.threads = 1;
    agent::Router* r = router.get();
    server = std::make_unique<http::Server>(
        std::move(options), [r](const http::Request& request) { return r->handle(request); });
    if (auto bound = server->listen(); !bound) fail("listen: " + bound.error().message());
    server->start();
  }

  std::filesystem::path dir;
  std::string path;
  agent::Board board;
  agent::AccessList access;
  agent::RequestCounters counters;
  std::unique_ptr<agent::Router> router;
  std::unique_ptr<http::Server> server;
};

Harness& harness() {
  // Never destroyed: libFuzzer exits from its own threads; the OS reclaims everything.
  static Harness* h = new Harness();
  return *h;
}

std::string send_and_receive(const std::string& path, std::string_view input) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    fail(std::string("connect: ") + std::strerror(errno));
  }
  timeval tv{10, 0};  // a server that neither answers nor closes within 10 s is a bug here
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::size_t sent = 0;
  while (sent < input.size()) {
    ssize_t n = ::send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (431, 400): that is an answer too
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      fail("the server neither answered nor closed within 10 s");
    }
    break;  // EOF or ECONNRESET
  }
  ::close(fd);
  return out;
}

// Every byte must belong to a complete response.
void check_responses(std::string_view out) {
  namespace http = boost::beast::http;
  while (!out.empty()) {
    if (!out.starts_with("HTTP/1.1 ") && !out.starts_with("HTTP/1.0 ")) {
      fail("bytes that are not a response: " + std::string(out.substr(0, 40)));
    }
    http::response_parser<http::empty_body> head;
    head.eager(false);
    boost::system::error_code ec;
    std::size_t used = head.put(boost::asio::buffer(out.data(), out.size()), ec);
    if (ec || !head.is_header_done()) fail("malformed or truncated response header");
    const unsigned status = head.get().result_int();
    if (status == 500) fail("the handler threw (500)");
    if (status < 200 || status > 599) fail("odd status " + std::to_string(status));
    out.remove_prefix(used);
    if (head.get()[http::field::content_type] == "text/event-stream") return;  // until close
    auto length = head.content_length();
    if (!length) fail("response without Content-Length");
    // A HEAD answer: the header announces a body that is not sent (no route's body starts
    // like a status line).
    if (*length > 0 && (out.empty() || out.starts_with("HTTP/1."))) continue;
    if (out.size() < *length) fail("truncated body");
    out.remove_prefix(*length);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = harness();
  std::string out = send_and_receive(h.path, {reinterpret_cast<const char*>(data), size});
  check_responses(out);
  return 0;
}
