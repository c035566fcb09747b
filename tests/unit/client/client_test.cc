#include "nodeagent/client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "fake_server.h"

namespace nodeagent::client {
namespace {

using testing::Action;
using testing::FakeServer;
using testing::http_response;

constexpr std::string_view kLine =
    "n1 uptime: 5h58m10s, load average: 1.62, 1.83, 2.25, active/total threads: 2/3479\n";

Endpoint endpoint_of(const std::string& url) {
  auto ep = parse_url(url);
  EXPECT_TRUE(ep) << url;
  return *ep;
}

ClientOptions fast(std::chrono::milliseconds timeout = std::chrono::milliseconds(300)) {
  ClientOptions o;
  o.timeout = timeout;
  return o;
}

std::string temp_socket_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string(name) + "-" + std::to_string(::getpid()) + ".sock"))
      .string();
}

TEST(Client, FetchesTheTextLineAndReusesTheConnection) {
  FakeServer server([](const std::string& target, int) {
    EXPECT_EQ(target, "/");
    return Action::reply(http_response(200, "text/plain; charset=utf-8", kLine));
  });
  Client client(endpoint_of(server.url()));
  for (int i = 0; i < 3; ++i) {
    auto line = client.text();
    ASSERT_TRUE(line) << line.error().message();
    EXPECT_EQ(*line, kLine.substr(0, kLine.size() - 1));
  }
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 1);
}

TEST(Client, RetriesOnceWhenAKeptAliveConnectionWasClosed) {
  // The agent closes after each answer without saying so (idle timeout, restart).
  FakeServer server([](const std::string&, int) {
    return Action::reply_and_close(http_response(200, "text/plain", kLine));
  });
  Client client(endpoint_of(server.url()), fast());
  for (int i = 0; i < 3; ++i) {
    auto line = client.text();
    ASSERT_TRUE(line) << i << ": " << line.error().message();
  }
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 3);
}

TEST(Client, HonoursConnectionClose) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(http_response(200, "text/plain", kLine, "Connection: close\r\n"));
  });
  Client client(endpoint_of(server.url()), fast());
  ASSERT_TRUE(client.text());
  ASSERT_TRUE(client.text());
  EXPECT_EQ(server.connections(), 2);
}

TEST(Client, PathPrefixIsPrepended) {
  FakeServer server([](const std::string& target, int) {
    EXPECT_EQ(target, "/agent/v1/node");
    return Action::reply(http_response(200, "application/json", R"({"node":"n1"})"));
  });
  Client client(endpoint_of(server.url() + "/agent/"), fast());
  auto node = client.node();
  ASSERT_TRUE(node) << node.error().message();
  EXPECT_EQ(node->node, "n1");
}

TEST(Client, DnsNamesAreResolved) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(http_response(200, "text/plain", kLine));
  });
  Client client(endpoint_of("http://localhost:" + std::to_string(server.port())), fast());
  auto line = client.text();
  ASSERT_TRUE(line) << line.error().message();
}

TEST(Client, UnixSocket) {
  std::string path = temp_socket_path("client-test");
  FakeServer server([](const std::string&,
                       int) { return Action::reply(http_response(200, "text/plain", kLine)); },
                    path);
  Client client(endpoint_of("unix://" + path), fast());
  auto line = client.text();
  ASSERT_TRUE(line) << line.error().message();
  EXPECT_EQ(server.connections(), 1);
}

TEST(ClientErrors, RefusedWhenNothingListens) {
  unsigned short port;
  {
    FakeServer server([](const std::string&, int) { return Action::close(); });
    port = server.port();
  }
  Client client(endpoint_of("http://127.0.0.1:" + std::to_string(port)), fast());
  auto r = client.text();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionRefused) << r.error().message();
  EXPECT_NE(r.error().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos);
}

TEST(ClientErrors, MissingUnixSocketIsRefused) {
  Client client(endpoint_of("unix://" + temp_socket_path("no-such")), fast());
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionRefused) << r.error().message();
}

TEST(ClientErrors, SilentAgentTimesOut) {
  FakeServer server([](const std::string&, int) { return Action::hang(); });
  Client client(endpoint_of(server.url()), fast(std::chrono::milliseconds(200)));
  auto r = client.text();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout) << r.error().message();
  EXPECT_NE(r.error().message().find("200 ms"), std::string::npos) << r.error().message();
  // The client stays usable: the next call opens a new connection.
  auto again = client.text();
  EXPECT_EQ(again.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(server.connections(), 2);
}

TEST(ClientErrors, HalfAnswerTimesOut) {
  FakeServer server([](const std::string&, int) {
    return Action::hang("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a bit");
  });
  Client client(endpoint_of(server.url()), fast(std::chrono::milliseconds(200)));
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout) << r.error().message();
}

TEST(ClientErrors, BadStatusCarriesTheStatus) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(http_response(503, "text/plain", "loadavg unreadable\n"));
  });
  Client client(endpoint_of(server.url()), fast());
  auto r = client.text();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadStatus);
  EXPECT_EQ(r.error().http_status, 503u);
  // The agent's one-line reason travels with the error (Kiada shows it on its page).
  EXPECT_EQ(r.error().message(), "bad status 503: GET /: loadavg unreadable");
  auto n = client.node();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kBadStatus);
  auto raw = client.get("/");  // get() itself reports any status
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 503u);
  EXPECT_EQ(raw->body, "loadavg unreadable\n");
}

TEST(ClientErrors, BadStatusNamesThePrefixedPathAndSkipsUnhelpfulBodies) {
  FakeServer server([](const std::string& target, int) {
    if (target == "/agent/") return Action::reply(http_response(502, "text/html", "<h1>x</h1>\n"));
    return Action::reply(http_response(404, "text/plain", std::string(400, 'x') + "\n"));
  });
  auto ep = endpoint_of(server.url() + "/agent");
  Client client(ep, fast());
  auto r = client.text();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "bad status 502: GET /agent/");
  auto n = client.node();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().message(), "bad status 404: GET /agent/v1/node");
}

TEST(ClientErrors, UnparsableBodies) {
  FakeServer server([](const std::string& target, int) {
    if (target == "/") return Action::reply(http_response(200, "text/plain", "a\nb\n"));
    return Action::reply(http_response(200, "application/json", "{not json"));
  });
  Client client(endpoint_of(server.url()), fast());
  auto t = client.text();
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kUnparsableBody);
  auto n = client.node();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kUnparsableBody);
  EXPECT_NE(n.error().message().find("invalid JSON"), std::string::npos);
}

TEST(ClientErrors, NotHttpIsAProtocolError) {
  FakeServer server([](const std::string&, int) {
    return Action::reply_and_close("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  Client client(endpoint_of(server.url()), fast());
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol) << r.error().message();
}

TEST(ClientErrors, ClosedWithoutAnswer) {
  FakeServer server([](const std::string&, int) { return Action::close(); });
  Client client(endpoint_of(server.url()), fast());
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionClosed) << r.error().message();
}

TEST(ClientErrors, BodyLimit) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(http_response(200, "text/plain", std::string(1000, 'x')));
  });
  ClientOptions o = fast();
  o.max_body_bytes = 100;
  Client client(endpoint_of(server.url()), o);
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBodyTooLarge) << r.error().message();
}

std::string sse_head(std::string_view extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n" +
         std::string(extra) + "\r\n";
}

std::string chunk(std::string_view data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

TEST(Watch, DeliversEventsUntilTheCallbackStops) {
  const std::string events =
      "event: node\ndata: {\"n\":1}\n\nevent: node\ndata: {\"n\":2}\n\n"
      "event: node\ndata: {\"n\":3}\n\n";
  FakeServer server([&](const std::string& target, int) {
    EXPECT_EQ(target, "/v1/node/watch");
    // Chunked like a Beast server; split mid-event to exercise reassembly.
    return Action::hang(sse_head("Transfer-Encoding: chunked\r\n") + chunk(events.substr(0, 20)) +
                        chunk(events.substr(20)));
  });
  Client client(endpoint_of(server.url()), fast());
  std::vector<std::string> got;
  auto r = client.watch([&](const SseEvent& e) {
    EXPECT_EQ(e.type, "node");
    got.push_back(e.data);
    return got.size() < 2;
  });
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "{\"n\":2}");
  // The stream's connection is not reused for later calls.
  server.drop_held();
}

TEST(Watch, StreamEndingIsConnectionClosed) {
  FakeServer server(
      [](const std::string&, int) { return Action::reply_and_close(sse_head() + "data: 1\n\n"); });
  Client client(endpoint_of(server.url()), fast());
  int n = 0;
  auto r = client.watch([&](const SseEvent&) {
    ++n;
    return true;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionClosed) << r.error().message();
  EXPECT_EQ(n, 1);
}

TEST(Watch, SilenceBeyondIdleTimeoutEndsTheWatch) {
  FakeServer server(
      [](const std::string&, int) { return Action::hang(sse_head() + "data: 1\n\n"); });
  Client client(endpoint_of(server.url()), fast());
  WatchOptions wo;
  wo.idle_timeout = std::chrono::milliseconds(200);
  int n = 0;
  auto r = client.watch(
      [&](const SseEvent&) {
        ++n;
        return true;
      },
      {}, wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout) << r.error().message();
  EXPECT_EQ(n, 1);
}

TEST(Watch, StopTokenCancelsFromAnotherThread) {
  FakeServer server(
      [](const std::string&, int) { return Action::hang(sse_head() + "data: 1\n\n"); });
  Client client(endpoint_of(server.url()), fast());
  std::stop_source stop;
  std::atomic<bool> first{false};
  std::thread stopper([&] {
    while (!first.load()) std::this_thread::yield();
    stop.request_stop();
  });
  auto r = client.watch(
      [&](const SseEvent&) {
        first = true;
        return true;
      },
      stop.get_token());
  stopper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled) << r.error().message();
  // A stop that was already requested cancels the next watch at once.
  auto again = client.watch([](const SseEvent&) { return true; }, stop.get_token());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kCancelled);
  // ... and leaves ordinary calls alone.
  server.drop_held();
}

TEST(Watch, RejectsNonStreams) {
  FakeServer server([](const std::string& target, int) {
    if (target == "/v1/node/watch") return Action::reply(http_response(404, "text/plain", "no\n"));
    return Action::reply(http_response(200, "application/json", "{}"));
  });
  Client client(endpoint_of(server.url()), fast());
  auto r = client.watch([](const SseEvent&) { return true; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadStatus);
  EXPECT_EQ(r.error().http_status, 404u);
  WatchOptions wo;
  wo.path = "/json";
  r = client.watch([](const SseEvent&) { return true; }, {}, wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  EXPECT_NE(r.error().message().find("text/event-stream"), std::string::npos);
}

TEST(Watch, UnixSocketStream) {
  std::string path = temp_socket_path("watch-test");
  FakeServer server(
      [](const std::string&, int) { return Action::hang(sse_head() + "data: x\n\n"); }, path);
  Client client(endpoint_of("unix://" + path), fast());
  std::string got;
  auto r = client.watch([&](const SseEvent& e) {
    got = e.data;
    return false;
  });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(got, "x");
}

}  // namespace
}  // namespace nodeagent::client
