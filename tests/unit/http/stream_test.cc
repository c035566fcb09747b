#include <gtest/gtest.h>

#include "test_support.h"

namespace nodeagent::http::test {
namespace {

std::shared_ptr<const std::string> chunk(const std::string& text) {
  return std::make_shared<const std::string>(cat("data: ", text, "\n\n"));
}

struct StreamServer {
  std::shared_ptr<Feed> feed = std::make_shared<Feed>();
  RunningServer srv;
  explicit StreamServer(ServerOptions options = tcp_options())
      : srv(std::move(options), [f = feed](const Request& r) {
          if (r.target == "/watch") return Response::event_stream(f);
          return Response::static_text(200, "plain\n");
        }) {}
  Client watch() {
    auto c = srv.client();
    c.send(get("/watch"));
    return c;
  }
};

TEST(Stream, SendsLatestChunkThenEveryNewOne) {
  StreamServer s;
  s.feed->publish(chunk("old"));
  s.feed->publish(chunk("zero"));
  auto c = s.watch();
  ASSERT_TRUE(c.read_until_contains("data: zero\n\n"));
  const std::string& raw = c.raw();
  auto header_end = raw.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  std::string header = raw.substr(0, header_end);
  EXPECT_TRUE(header.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(header.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(header.find("Cache-Control: no-cache\r\n"), std::string::npos);
  EXPECT_EQ(header.find("Content-Length"), std::string::npos);
  EXPECT_EQ(header.find("Connection: close"), std::string::npos);
  EXPECT_EQ(raw.find("data: old"), std::string::npos) << "only the latest chunk on connect";

  EXPECT_TRUE(eventually([&] { return s.feed->subscriber_count() == 1; }));
  EXPECT_EQ(s.srv.stats().streams_open.load(), 1u);
  for (int i = 1; i <= 3; ++i) {
    const std::string n = std::to_string(i);
    s.feed->publish(chunk(cat("n", n)));
    ASSERT_TRUE(c.read_until_contains(cat("data: n", n, "\n\n"))) << i;
  }
  // Other requests keep working meanwhile.
  auto other = s.srv.client();
  ASSERT_TRUE(other.send(get("/")));
  auto r = other.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "plain\n");
}

TEST(Stream, WaitsForTheFirstChunkWhenNoneExists) {
  StreamServer s;
  auto c = s.watch();
  ASSERT_TRUE(c.read_until_contains("\r\n\r\nretry: 1000\n\n"));
  EXPECT_TRUE(c.raw().ends_with("\r\n\r\nretry: 1000\n\n"));
  EXPECT_TRUE(eventually([&] { return s.feed->subscriber_count() == 1; }));
  s.feed->publish(chunk("first"));
  EXPECT_TRUE(c.read_until_contains("data: first\n\n"));
}

TEST(Stream, StopEndsStreamsCleanly) {
  StreamServer s;
  s.feed->publish(chunk("a"));
  auto c1 = s.watch();
  auto c2 = s.watch();
  ASSERT_TRUE(c1.read_until_contains("data: a\n\n"));
  ASSERT_TRUE(c2.read_until_contains("data: a\n\n"));
  s.srv.server().stop();
  for (Client* c : {&c1, &c2}) {
    EXPECT_TRUE(c->wait_closed());
    EXPECT_TRUE(c->raw().ends_with("\n\n")) << "no half chunk";
  }
  s.srv.shutdown();
  EXPECT_EQ(s.srv.stats().streams_open.load(), 0u);
  EXPECT_EQ(s.srv.stats().drain_forced_closes.load(), 0u);
}

TEST(Stream, FeedCloseEndsStreams) {
  StreamServer s;
  s.feed->publish(chunk("a"));
  auto c = s.watch();
  ASSERT_TRUE(c.read_until_contains("data: a\n\n"));
  EXPECT_TRUE(eventually([&] { return s.feed->subscriber_count() == 1; }));
  s.feed->close();
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(eventually([&] { return s.srv.stats().streams_open.load() == 0; }));
  s.feed->publish(chunk("ignored"));
  EXPECT_EQ(s.feed->latest().sequence, 1u);
}

TEST(Stream, ClientLeavingIsNoticedBetweenChunks) {
  StreamServer s;
  s.feed->publish(chunk("a"));
  {
    auto c = s.watch();
    ASSERT_TRUE(c.read_until_contains("data: a\n\n"));
  }
  EXPECT_TRUE(eventually([&] { return s.srv.stats().connections_open.load() == 0; }));
  EXPECT_EQ(s.feed->subscriber_count(), 0u);
}

TEST(Stream, SlowClientDoesNotHoldBackOthers) {
  auto options = tcp_options();
  options.limits.stream_backlog_bytes = 4 << 20;  // chunks here are 256 KiB, real ones ~3 KiB
  StreamServer s(options);
  s.feed->publish(chunk("start"));
  auto slow = s.watch();  // never reads
  int small = 4096;
  ::setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  auto fast = s.watch();
  ASSERT_TRUE(fast.read_until_contains("data: start\n\n"));
  EXPECT_TRUE(eventually([&] { return s.feed->subscriber_count() == 2; }));
  const std::string filler(256 * 1024, 'x');
  constexpr int kChunks = 40;  // ~10 MB total: far beyond what the slow socket can buffer
  // The fast client reads as it goes (one that does not is too far behind and is dropped: see
  // the next test); the slow one never reads, and must not delay a single chunk for it.
  for (int i = 0; i < kChunks; ++i) {
    s.feed->publish(std::make_shared<const std::string>(
        cat("id: ", std::to_string(i), "\ndata: ", filler, "\n\n")));
    ASSERT_TRUE(fast.read_until_contains(cat("id: ", std::to_string(i), "\n"))) << i;
    fast.raw().clear();  // keep the test's own memory flat
  }
  // The publisher never blocked; the fast client got every chunk, the newest included.
}

TEST(Stream, AWatcherThatNeverReadsIsDroppedWithBoundedBacklog) {
  auto options = tcp_options();
  options.limits.stream_backlog_bytes = 16 * 1024;
  StreamServer s(options);
  auto slow = s.srv.client();
  int small = 4096;
  ::setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_TRUE(slow.send(get("/watch")));
  EXPECT_TRUE(eventually([&] { return s.feed->subscriber_count() == 1; }));
  const std::string filler(8 * 1024, 'x');
  // Publish (bounded) until the server gives up on the watcher; it never reads a byte.
  for (int i = 0; i < 2000 && s.srv.stats().streams_dropped.load() == 0; ++i) {
    s.feed->publish(std::make_shared<const std::string>(cat("data: ", filler, "\n\n")));
    std::this_thread::sleep_for(1ms);  // the publisher's pace, like a sampling interval
  }
  EXPECT_EQ(s.srv.stats().streams_dropped.load(), 1u);
  EXPECT_TRUE(eventually([&] { return s.srv.stats().streams_open.load() == 0; }));
}

TEST(Stream, StartsWithRetryBeforeTheFirstEvent) {
  auto options = tcp_options();
  options.sse_retry = 1500ms;
  StreamServer s(options);
  s.feed->publish(chunk("a"));
  auto c = s.watch();
  ASSERT_TRUE(c.read_until_contains("data: a\n\n"));
  const std::string& raw = c.raw();
  auto body = raw.substr(raw.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "retry: 1500\n\ndata: a\n\n");
}

TEST(Stream, SilentStreamGetsHeartbeats) {
  // No publish at all (a very long sampling interval): comments keep the stream audibly alive.
  auto options = tcp_options();
  options.sse_heartbeat = 50ms;
  StreamServer s(options);
  auto c = s.watch();
  const auto two_beats = [](const std::string& raw) {
    auto first = raw.find(": heartbeat\n\n");
    return first != std::string::npos &&
           raw.find(": heartbeat\n\n", first + 1) != std::string::npos;
  };
  ASSERT_TRUE(c.read_until(two_beats)) << c.raw();
  EXPECT_EQ(c.raw().find("data:"), std::string::npos);
  // Events still arrive between heartbeats, each block complete.
  s.feed->publish(chunk("late"));
  ASSERT_TRUE(c.read_until_contains("data: late\n\n"));
  EXPECT_EQ(s.srv.stats().streams_open.load(), 1u);
}

TEST(Stream, HeadOnAStreamSendsHeadersAndCloses) {
  StreamServer s;
  auto c = s.srv.client();
  ASSERT_TRUE(c.send("HEAD /watch HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(c.raw().starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(c.raw().ends_with("\r\n\r\n"));
  EXPECT_NE(c.raw().find("text/event-stream"), std::string::npos);
}

}  // namespace
}  // namespace nodeagent::http::test
