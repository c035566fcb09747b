// stop_after(): the grace period between "shutdown began" and "listeners closed", for the
// endpoint-removal race of a Kubernetes pod shutdown.

#include <gtest/gtest.h>

#include "test_support.h"

namespace nodeagent::http::test {
namespace {

namespace bhttp = boost::beast::http;

Handler hello() {
  return [](const Request&) { return Response::static_text(200, "hello\n"); };
}

std::optional<HttpResponse> fetch(Client& c) {
  if (!c.send(get("/"))) return std::nullopt;
  return c.read_response();
}

TEST(ShutdownDelay, NewConnectionsAreAnsweredWithCloseDuringTheDelay) {
  RunningServer srv(tcp_options(), hello());
  auto kept = srv.client();  // a keep-alive connection from before
  ASSERT_TRUE(fetch(kept));
  srv.server().stop_after(1h);
  EXPECT_TRUE(srv.server().closing());
  EXPECT_FALSE(srv.server().stopping());
  for (int i = 0; i < 3; ++i) {
    auto c = srv.client();
    ASSERT_TRUE(c.connected()) << i;
    auto r = fetch(c);
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->result_int(), 200u);
    EXPECT_EQ((*r)[bhttp::field::connection], "close") << "so the client reconnects elsewhere";
    EXPECT_TRUE(c.wait_closed());
  }
  auto r = fetch(kept);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[bhttp::field::connection], "close");
}

TEST(ShutdownDelay, StopDuringTheDelaySkipsTheRest) {
  RunningServer srv(tcp_options(), hello());
  const auto port = srv.port();
  ASSERT_TRUE(listening_here(port));
  srv.server().stop_after(1h);
  srv.server().stop();
  srv.shutdown();  // joins: returns only because the hour was skipped
  EXPECT_TRUE(srv.server().stopping());
  EXPECT_FALSE(listening_here(port));
}

TEST(ShutdownDelay, ListenersCloseWhenTheDelayEnds) {
  RunningServer srv(tcp_options(), hello());
  const auto port = srv.port();
  srv.server().stop_after(100ms);
  EXPECT_TRUE(eventually([&] { return srv.server().stopping(); }));
  EXPECT_TRUE(eventually([&] { return !listening_here(port); }));
  srv.shutdown();
}

TEST(ShutdownDelay, ZeroIsAPlainStop) {
  RunningServer srv(tcp_options(), hello());
  srv.server().stop_after(0ms);
  EXPECT_TRUE(srv.server().stopping());
  srv.shutdown();
}

TEST(ShutdownDelay, StreamsKeepFlowingUntilTheDrain) {
  auto feed = std::make_shared<Feed>();
  RunningServer srv(tcp_options(), [feed](const Request&) { return Response::event_stream(feed); });
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/watch")));
  ASSERT_TRUE(c.read_until_contains("retry: "));
  EXPECT_TRUE(eventually([&] { return feed->subscriber_count() == 1; }));
  srv.server().stop_after(1h);
  feed->publish(std::make_shared<const std::string>("data: during\n\n"));
  EXPECT_TRUE(c.read_until_contains("data: during\n\n"));
  srv.server().stop();
  EXPECT_TRUE(c.wait_closed());
}

}  // namespace
}  // namespace nodeagent::http::test
