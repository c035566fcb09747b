// libFuzzer: arbitrary bytes sent to the agent's whole request path through a socket (the pure
// pieces alone, on buffers and far faster, are fuzz_http_request). One in-process http::Server
// (the agent's default Limits, one event loop) serves the agent's Router over a unix socket; each
// input is written on a fresh connection, the write side is shut, and everything the server
// answers is read until it closes. The oracle: the server always closes, never answers 500 (a
// handler threw) and every byte it sends is a complete, well-framed HTTP/1.x response.
//
// A unix socket (not TCP) so a million short connections leave no TIME_WAIT behind.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_agent.h"
#include "http/server.h"
#include "log/log.h"

namespace {

using namespace nodeagent;
using fuzz::fail;

struct Harness {
  Harness() {
    log::set_level(log::Level::kError);
    dir = std::filesystem::temp_directory_path() / ("nodeagent-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    path = (dir / "agent.sock").string();

    http::ServerOptions options;
    options.listen = {http::parse_listen_address("unix://" + path).value()};
    options.threads = 1;
    agent::Router* r = &agent.router;
    server = std::make_unique<http::Server>(
        std::move(options), [r](const http::Request& request) { return r->handle(request); });
    if (auto bound = server->listen(); !bound) fail("listen: " + bound.error().message());
    server->start();
  }

  std::filesystem::path dir;
  std::string path;
  fuzz::AgentUnderTest agent;
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = harness();
  std::string out = send_and_receive(h.path, {reinterpret_cast<const char*>(data), size});
  fuzz::check_responses(out);
  return 0;
}
