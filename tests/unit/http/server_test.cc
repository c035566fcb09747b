#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <vector>

#include "test_support.h"

namespace nodeagent::http::test {
namespace {

namespace bhttp = boost::beast::http;

// What the handler saw, copied out (Request views die with the call).
struct Seen {
  std::string method;
  std::string target;
  std::string accept;
  std::string user_agent;
  std::string remote;
  std::string custom;
  bool keep_alive = false;
  unsigned version = 0;
  std::size_t header_count = 0;
};

class Recorder {
 public:
  Handler handler() {
    return [this](const Request& r) {
      Seen s;
      s.method = std::string(r.method_string);
      s.target = std::string(r.target);
      s.accept = std::string(r.accept);
      s.user_agent = std::string(r.user_agent);
      s.remote = r.remote.ip ? r.remote.ip->to_string() : "unix";
      s.custom = std::string(r.header("x-custom"));
      s.keep_alive = r.keep_alive;
      s.version = r.version;
      s.header_count = r.headers.size();
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(s);
      }
      if (r.target == "/throw") throw std::runtime_error("boom");
      if (r.method != bhttp::verb::get && r.method != bhttp::verb::head) {
        return Response::static_text(405, "method not allowed\n").with_header("Allow", "GET, HEAD");
      }
      return Response::text(200, cat("hello ", s.target, "\n"))
          .with_header("Cache-Control", "no-store")
          .with_header("X-Bad", "a\r\nInjected: yes");
    };
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

TEST(Server, RoundTripGet) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/v1/node?x=1",
                         "Accept: application/json\r\nUser-Agent: t/1\r\n"
                         "X-Custom: yes\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "hello /v1/node?x=1\n");
  EXPECT_EQ((*r)[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ((*r)[bhttp::field::content_length], "19");
  EXPECT_EQ((*r)[bhttp::field::cache_control], "no-store");
  EXPECT_FALSE((*r)[bhttp::field::date].empty());
  EXPECT_EQ(r->count("X-Bad"), 0u) << "fields with CR/LF are dropped";
  EXPECT_EQ(r->count("Injected"), 0u);
  EXPECT_TRUE(r->keep_alive());

  auto seen = rec.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/v1/node?x=1");
  EXPECT_EQ(seen[0].accept, "application/json");
  EXPECT_EQ(seen[0].user_agent, "t/1");
  EXPECT_EQ(seen[0].custom, "yes");
  EXPECT_EQ(seen[0].remote, "127.0.0.1");
  EXPECT_TRUE(seen[0].keep_alive);
  EXPECT_EQ(seen[0].version, 11u);
  EXPECT_EQ(seen[0].header_count, 4u);
  EXPECT_TRUE(eventually([&] { return srv.stats().requests_total.load() == 1; }));
}

TEST(Server, KeepAliveReusesTheConnection) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(get(cat("/n", std::to_string(i)))));
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body(), cat("hello /n", std::to_string(i), "\n"));
  }
  EXPECT_EQ(srv.stats().connections_accepted.load(), 1u);
  EXPECT_EQ(srv.stats().requests_total.load(), 3u);
}

TEST(Server, PipelinedRequestsAnsweredInOrder) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += get(cat("/p", std::to_string(i)));
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < 20; ++i) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body(), cat("hello /p", std::to_string(i), "\n"));
  }
}

TEST(Server, HeadSendsHeadersWithoutBody) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  // HEAD then GET pipelined: a stray body after the HEAD response would corrupt the second.
  ASSERT_TRUE(c.send(cat("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n", get("/g"))));
  auto head = c.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 200u);
  EXPECT_EQ((*head)[bhttp::field::content_length], "9");  // "hello /h\n"
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "hello /g\n");
}

TEST(Server, Http10ClosesUnlessKeepAliveAsked) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  {
    auto c = srv.client();
    ASSERT_TRUE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body(), "hello /old\n");
    EXPECT_EQ((*r)[bhttp::field::connection], "close");
    EXPECT_TRUE(c.wait_closed());
  }
  {
    auto c = srv.client();
    ASSERT_TRUE(c.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)[bhttp::field::connection], "keep-alive");
    ASSERT_TRUE(c.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body(), "hello /b\n");
  }
  EXPECT_FALSE(rec.seen().at(0).keep_alive);
  EXPECT_EQ(rec.seen().at(0).version, 10u);
}

TEST(Server, ConnectionCloseFromClientIsHonoured) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/", "Connection: close\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[bhttp::field::connection], "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST(Server, GarbageGets400AndClose) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  for (std::string_view junk :
       {"HELLO\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "\x16\x03\x01\x02\x00\r\n\r\n"}) {
    SCOPED_TRACE(std::string(junk));
    auto c = srv.client();
    ASSERT_TRUE(c.send(junk));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 400u);
    EXPECT_EQ(r->body(), "bad request\n");
    EXPECT_EQ((*r)[bhttp::field::connection], "close");
    EXPECT_TRUE(c.wait_closed());
  }
  EXPECT_TRUE(rec.seen().empty());
  EXPECT_EQ(srv.stats().bad_requests.load(), 4u);
}

TEST(Server, HostMissingInHttp11OrRepeatedGets400) {
  // RFC 9112 section 3.2.
  const std::pair<const char*, const char*> cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", "missing Host header\n"},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one Host header\n"},
      {"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", "more than one Host header\n"},
  };
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  for (const auto& [request, reason] : cases) {
    auto c = srv.client();
    ASSERT_TRUE(c.send(request));
    auto r = c.read_response();
    ASSERT_TRUE(r) << request;
    EXPECT_EQ(r->result_int(), 400u) << request;
    EXPECT_EQ(r->body(), reason);
    EXPECT_TRUE(c.wait_closed()) << request;
  }
  EXPECT_TRUE(rec.seen().empty());
}

TEST(Server, OversizedHeaderGets431) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/", cat("X-Big: ", std::string(9 * 1024, 'a'), "\r\n"))));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 431u);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(srv.stats().header_too_large.load(), 1u);
}

TEST(Server, TooManyHeadersGets431) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto fields = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += cat("X-F", std::to_string(i), ": v\r\n");
    return s;
  };
  {
    auto c = srv.client();  // Host + 99 = 100 fields: allowed
    ASSERT_TRUE(c.send(get("/", fields(99))));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u);
  }
  {
    auto c = srv.client();  // 101 fields
    ASSERT_TRUE(c.send(get("/", fields(100))));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 431u);
    EXPECT_TRUE(c.wait_closed());
  }
  EXPECT_EQ(rec.seen().size(), 1u);
}

TEST(Server, BodyOnGetIsRefused) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  for (std::string_view extra : {"Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n"}) {
    SCOPED_TRACE(std::string(extra));
    auto c = srv.client();
    ASSERT_TRUE(c.send(cat(get("/", extra), "hello")));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 400u);
    EXPECT_EQ(r->body(), "request body not allowed\n");
    EXPECT_TRUE(c.wait_closed());
  }
  EXPECT_TRUE(rec.seen().empty());
  EXPECT_EQ(srv.stats().body_rejected.load(), 2u);
  {
    // Other methods reach the handler (which answers 405); the unread body ends the connection.
    auto c = srv.client();
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 405u);
    EXPECT_EQ((*r)[bhttp::field::allow], "GET, HEAD");
    EXPECT_EQ((*r)[bhttp::field::connection], "close");
    EXPECT_TRUE(c.wait_closed());
  }
}

TEST(Server, HandlerExceptionGives500AndKeepsServing) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/throw")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 500u);
  ASSERT_TRUE(c.send(get("/after")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(srv.stats().handler_errors.load(), 1u);
}

// Deadlines run on the server's injected clock: these tests set long timeouts and advance a
// ManualClock past them instead of sleeping (the event loop looks at the clock every tick, so
// "closed" arrives within a tick of the advance; kWait only bounds a broken server).

TEST(Server, SlowClientIsCutOffAfterReadTimeout) {
  Recorder rec;
  ManualClock clock;
  auto options = tcp_options();
  options.clock = &clock;
  options.limits.read_timeout = 30s;
  RunningServer srv(options, rec.handler());
  auto c = srv.client();
  // A complete request, then one whose header never ends: once /a is answered the server has
  // the rest too, and the read deadline of /b runs from the clock's start.
  ASSERT_TRUE(c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n"));
  ASSERT_TRUE(c.read_response());
  clock.advance(29s);
  ASSERT_TRUE(c.send("X-Trickle: 1\r\n"));  // still inside the deadline: taken
  clock.advance(1000s);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_NE(c.raw().find("HTTP/1.1 408"), std::string::npos) << c.raw();
  EXPECT_EQ(srv.stats().read_timeouts.load(), 1u);
  ASSERT_EQ(rec.seen().size(), 1u);
  EXPECT_EQ(rec.seen()[0].target, "/a");
}

TEST(Server, SilentConnectionIsClosedAfterReadTimeout) {
  Recorder rec;
  ManualClock clock;
  auto options = tcp_options();
  options.clock = &clock;
  options.limits.read_timeout = 30s;
  RunningServer srv(options, rec.handler());
  auto c = srv.client();
  // Nothing shows when the server has taken the connection (and started its deadline), so
  // time moves on until it gives up.
  bool closed = false;
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (!closed && std::chrono::steady_clock::now() < give_up) {
    clock.advance(1000s);
    closed = c.wait_closed(20ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_TRUE(c.raw().empty());
  EXPECT_EQ(srv.stats().read_timeouts.load(), 1u);
}

TEST(Server, IdleKeepAliveConnectionIsClosed) {
  Recorder rec;
  ManualClock clock;
  auto options = tcp_options();
  options.clock = &clock;
  options.limits.idle_timeout = 60s;
  RunningServer srv(options, rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/")));
  ASSERT_TRUE(c.read_response());
  clock.advance(59s);
  ASSERT_TRUE(c.send(get("/again")));  // a request inside the idle timeout keeps it open
  ASSERT_TRUE(c.read_response());
  clock.advance(1000s);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(srv.stats().idle_timeouts.load(), 1u);
}

// RFC 9110 section 5.6.7: the Date header is the clock's second in IMF-fixdate.
TEST(Server, DateHeaderIsTheClocksTime) {
  Recorder rec;
  ManualClock clock(std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  auto options = tcp_options();
  options.clock = &clock;
  // Deadlines far beyond the jump below, so that it closes nothing.
  options.limits.read_timeout = options.limits.idle_timeout = options.limits.send_timeout =
      std::chrono::hours(24 * 365);
  RunningServer srv(options, rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[bhttp::field::date], "Tue, 14 Nov 2023 22:13:20 GMT");
  clock.advance(std::chrono::hours(24 * 48) + 1s);
  // The loop picks the new second up on its next tick; until then it keeps the old one.
  std::string date;
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (date != "Mon, 01 Jan 2024 22:13:21 GMT" && std::chrono::steady_clock::now() < give_up) {
    ASSERT_TRUE(c.send(get("/")));
    auto again = c.read_response();
    ASSERT_TRUE(again);
    date = std::string((*again)[bhttp::field::date]);
    ASSERT_TRUE(date == "Tue, 14 Nov 2023 22:13:20 GMT" || date == "Mon, 01 Jan 2024 22:13:21 GMT")
        << date;
  }
  EXPECT_EQ(date, "Mon, 01 Jan 2024 22:13:21 GMT");
}

TEST(Server, ConnectionsBeyondTheLimitAreClosed) {
  Recorder rec;
  auto options = tcp_options();
  options.limits.max_connections = 5;
  RunningServer srv(options, rec.handler());
  std::vector<Client> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(srv.client());
    ASSERT_TRUE(clients.back().send(get("/")));
    ASSERT_TRUE(clients.back().read_response()) << i;
  }
  EXPECT_EQ(srv.stats().connections_open.load(), 5u);
  auto sixth = srv.client();
  ASSERT_TRUE(sixth.connected());  // the kernel completes the handshake
  EXPECT_TRUE(sixth.wait_closed());
  EXPECT_TRUE(sixth.raw().empty());
  EXPECT_EQ(srv.stats().connections_rejected.load(), 1u);

  // Still healthy: the five keep working, and a freed slot is usable again.
  ASSERT_TRUE(clients[0].send(get("/again")));
  ASSERT_TRUE(clients[0].read_response());
  clients.pop_back();
  EXPECT_TRUE(eventually([&] { return srv.stats().connections_open.load() == 4; }));
  auto next = srv.client();
  ASSERT_TRUE(next.send(get("/new")));
  auto r = next.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "hello /new\n");
}

TEST(Server, OutOfDescriptorsBacksOffAndResumes) {
#ifdef NODEAGENT_UBSAN
  // With every descriptor in use, UBSan's vptr check cannot probe memory (it needs a pipe) and
  // reports virtual calls anywhere in the server as bad: false positives. The release and TSan
  // builds run this test.
  GTEST_SKIP() << "UBSan's vptr check needs free descriptors";
#endif
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  const auto port = srv.port();
  // Client sockets are created first; then the descriptor limit leaves no room for the server's
  // accept(). Connecting needs no new descriptor: the kernel completes the handshakes.
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(*std::max_element(fds.begin(), fds.end()) + 1);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int fd : fds) {
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    std::string request = get("/fd");
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
  }
  bool hit = eventually([&] { return srv.stats().accept_errors.load() > 0; });
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_TRUE(hit);
  // After the back-off the queued connections are accepted and served.
  for (int fd : fds) {
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kWait).count())), 1);
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_TRUE(std::string_view(buf, static_cast<std::size_t>(n)).starts_with("HTTP/1.1 200"));
    ::close(fd);
  }
  // Bounded by the back-off: a busy loop would have counted thousands of errors.
  EXPECT_LT(srv.stats().accept_errors.load(), 1000u);
}

TEST(Server, StopLetsTheResponseInFlightFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  std::atomic<bool> first{true};
  RunningServer srv(tcp_options(), [&](const Request&) {
    if (first.exchange(false)) {
      entered.set_value();
      release_future.wait();
    }
    return Response::static_text(200, "finished\n");
  });
  auto port = srv.port();
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/slow")));
  ASSERT_EQ(entered.get_future().wait_for(kWait), std::future_status::ready);
  srv.server().stop();
  EXPECT_TRUE(eventually([&] { return !listening_here(port); }))
      << "listening socket must close at once";
  release.set_value();
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "finished\n");
  EXPECT_EQ((*r)[bhttp::field::connection], "close");
  EXPECT_TRUE(c.wait_closed());
  srv.shutdown();  // join: run() returned
  EXPECT_EQ(srv.stats().connections_open.load(), 0u);
  EXPECT_EQ(srv.stats().drain_forced_closes.load(), 0u);
}

TEST(Server, StopClosesIdleConnectionsAndReturns) {
  Recorder rec;
  RunningServer srv(tcp_options(), rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  srv.server().stop();
  EXPECT_TRUE(c.wait_closed());
  srv.shutdown();
  EXPECT_EQ(srv.stats().connections_open.load(), 0u);
}

TEST(Server, DrainTimeoutCutsStuckClients) {
  Recorder rec;
  ManualClock clock;
  auto options = tcp_options();
  options.clock = &clock;
  options.limits.drain_timeout = 30s;
  RunningServer srv(options, rec.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\n"));  // half a request: drain waits for it...
  EXPECT_TRUE(eventually([&] { return srv.stats().connections_open.load() == 1; }));
  srv.server().stop();
  EXPECT_FALSE(c.wait_closed(50ms));  // (not a timing claim: the clock has not moved)
  // ...until the drain timeout has passed on the server's clock.
  bool closed = false;
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (!closed && std::chrono::steady_clock::now() < give_up) {
    clock.advance(31s);
    closed = c.wait_closed(20ms);
  }
  EXPECT_TRUE(closed);
  srv.shutdown();
  EXPECT_EQ(srv.stats().drain_forced_closes.load(), 1u);
}

TEST(Server, DualStackAnyAddressReportsIpv4Clients) {
  Recorder rec;
  ServerOptions options;
  options.listen.push_back(*parse_listen_address(":0"));
  options.threads = 1;
  RunningServer srv(options, rec.handler());
  auto bound = srv.server().bound_addresses();
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_TRUE(bound[0].starts_with("[::]:") || bound[0].starts_with("0.0.0.0:")) << bound[0];
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/")));
  ASSERT_TRUE(c.read_response());
  EXPECT_EQ(rec.seen().at(0).remote, "127.0.0.1");
}

TEST(Server, Ipv6LoopbackReportsIpv6Clients) {
  Recorder rec;
  ServerOptions options;
  options.listen.push_back(*parse_listen_address("[::1]:0"));
  options.threads = 1;
  Server s(options, rec.handler());
  if (!s.listen()) GTEST_SKIP() << "no IPv6 loopback on this host";
  ASSERT_TRUE(s.start());
  auto name = s.bound_addresses().at(0);
  ASSERT_TRUE(name.starts_with("[::1]:")) << name;
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(static_cast<std::uint16_t>(std::stoi(name.substr(name.rfind(':') + 1))));
  sa.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  std::string request = get("/six");
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kWait).count())), 1);
  char buf[512];
  EXPECT_GT(::recv(fd, buf, sizeof buf, 0), 0);
  ::close(fd);
  s.stop();
  s.join();
  ASSERT_EQ(rec.seen().size(), 1u);
  EXPECT_EQ(rec.seen()[0].remote, "::1");
}

TEST(Server, ListenErrorNamesTheAddress) {
  Recorder rec;
  // A port held by a socket without SO_REUSEPORT (another program) cannot be shared.
  int busy = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(busy, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(busy, 1), 0);
  socklen_t len = sizeof sa;
  ::getsockname(busy, reinterpret_cast<sockaddr*>(&sa), &len);
  ServerOptions options;
  auto taken = cat("127.0.0.1:", std::to_string(ntohs(sa.sin_port)));
  options.listen.push_back(*parse_listen_address(taken));
  Server second(options, rec.handler());
  auto r = second.listen();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, boost::system::errc::address_in_use);
  EXPECT_EQ(r.error().message().rfind(cat(taken, ": "), 0), 0u) << r.error().message();
  EXPECT_TRUE(second.bound_addresses().empty());
  ::close(busy);
}

TEST(Server, EmptyListenListIsAnError) {
  Server s(ServerOptions{}, [](const Request&) { return Response{}; });
  auto r = s.listen();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("empty"), std::string::npos);
}

TEST(Server, RunBlocksUntilStop) {
  Recorder rec;
  Server s(tcp_options(), rec.handler());
  ASSERT_TRUE(s.listen());  // as the agent does, before dropping privileges
  auto name = s.bound_addresses().at(0);
  auto port = static_cast<std::uint16_t>(std::stoi(name.substr(name.rfind(':') + 1)));
  std::thread loop([&] { EXPECT_TRUE(s.run()); });
  auto c = Client::tcp(port);
  ASSERT_TRUE(c.send(get("/run")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "hello /run\n");
  s.stop();
  loop.join();
  EXPECT_TRUE(c.wait_closed());
}

TEST(Server, StopBeforeRunReturns) {
  Recorder rec;
  Server s(tcp_options(), rec.handler());
  ASSERT_TRUE(s.listen());
  s.stop();
  EXPECT_TRUE(s.run());  // must return promptly: drained with nothing in flight
  EXPECT_TRUE(s.stopping());
}

}  // namespace
}  // namespace nodeagent::http::test

namespace nodeagent::http::test {
namespace {

TEST(Server, TwoServersShareAPortAndTheSecondTakesOverWhenTheFirstStops) {
  // SO_REUSEPORT: an old and a new agent on one host port during a surge rollout.
  auto named = [](std::string name) {
    return [name](const Request&) { return Response::text(200, name); };
  };
  auto first = std::make_unique<RunningServer>(tcp_options(), named("first"));
  auto options = tcp_options();
  options.listen[0].port = first->port();
  RunningServer second(options, named("second"));
  const auto port = first->port();
  EXPECT_EQ(second.port(), port);
  EXPECT_EQ(listeners_on(port), 2);
  first.reset();
  // The kernel spreads new connections over every socket in the port's group: the first one
  // must have left it, and no other process (a parallel test) may have joined it.
  ASSERT_EQ(listeners_on(port), 1);
  ASSERT_EQ(listeners_on(port, /*anyone=*/true), 1);
  for (int i = 0; i < 50; ++i) {
    auto c = second.client();
    ASSERT_TRUE(c.connected()) << i;
    ASSERT_TRUE(c.send(get("/")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body(), "second") << i;
  }
}

}  // namespace
}  // namespace nodeagent::http::test
