#include "kiada/relay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "../client/fake_server.h"

namespace nodeagent::kiada {
namespace {

using testing::Action;
using testing::FakeServer;

// Polls the feed (bounded) until its latest chunk satisfies `want`.
template <class Pred>
std::string wait_for_chunk(const http::Feed& feed, Pred want) {
  for (int i = 0; i < 1000; ++i) {
    auto latest = feed.latest();
    if (latest.data && want(*latest.data)) return *latest.data;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto latest = feed.latest();
  return latest.data ? "timed out; last: " + *latest.data : "timed out; nothing published";
}

TEST(StreamRelay, ChunkFraming) {
  EXPECT_EQ(StreamRelay::node_chunk("{\"node\":\"n1\"}"),
            "event: node\ndata: {\"node\":\"n1\"}\n\n");
  EXPECT_EQ(StreamRelay::node_chunk("{\n\"a\":1\r\n}"),
            "event: node\ndata: {\ndata: \"a\":1\ndata: }\n\n");
  EXPECT_EQ(StreamRelay::error_chunk("connection refused: \"x\""),
            "event: agent-error\ndata: {\"error\":\"connection refused: \\\"x\\\"\"}\n\n");
}

TEST(StreamRelay, RelaysTheAgentsEventsToTheFeed) {
  FakeServer agent([](const std::string& target, int) {
    EXPECT_EQ(target, "/v1/node/watch");
    return Action::hang(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
        "id: 1\nevent: node\ndata: {\"node\":\"n1\",\"seq\":1}\n\n"
        "id: 2\nevent: node\ndata: {\"node\":\"n1\",\"seq\":2}\n\n");
  });
  auto feed = std::make_shared<http::Feed>();
  client::ClientOptions o;
  o.timeout = std::chrono::milliseconds(500);
  StreamRelay relay(client::discover(agent.url()), o, feed);
  relay.start();
  std::string chunk = wait_for_chunk(
      *feed, [](const std::string& c) { return c.find("\"seq\":2") != std::string::npos; });
  EXPECT_EQ(chunk, "event: node\ndata: {\"node\":\"n1\",\"seq\":2}\n\n");
  relay.stop();
  agent.drop_held();
}

TEST(StreamRelay, AgentFailuresBecomeErrorEventsAndItReconnects) {
  FakeServer agent([](const std::string&, int index) {
    if (index == 1) return Action::reply_and_close("HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n");
    return Action::hang(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
        "event: node\ndata: {\"node\":\"back\"}\n\n");
  });
  auto feed = std::make_shared<http::Feed>();
  RelayOptions ro;
  ro.min_backoff = std::chrono::milliseconds(10);
  StreamRelay relay(client::discover(agent.url()), {}, feed, ro);
  relay.start();
  std::string chunk = wait_for_chunk(
      *feed, [](const std::string& c) { return c.find("\"back\"") != std::string::npos; });
  EXPECT_EQ(chunk, "event: node\ndata: {\"node\":\"back\"}\n\n");
  EXPECT_GE(feed->latest().sequence, 2u);  // the error event came first
  relay.stop();
  agent.drop_held();
}

// Time for the relay's watchdog: tests move it instead of sleeping.
struct FakeClock {
  std::atomic<std::int64_t> ms{1000000};
  void advance(std::chrono::milliseconds d) { ms += d.count(); }
  RelayOptions options() {
    RelayOptions o;
    o.now = [this] {
      return RelayOptions::Clock::time_point(std::chrono::milliseconds(ms.load()));
    };
    o.tick = std::chrono::milliseconds(5);
    o.min_backoff = std::chrono::milliseconds(10);
    o.idle_timeout = std::chrono::seconds(60);  // only the bounds under test may fire
    return o;
  }
};

constexpr std::string_view kStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";

TEST(StreamRelay, QuietHealthyStreamGivesBrowsersHeartbeatsWithTheLatestSample) {
  FakeServer agent([](const std::string&, int) {
    // One event, then the silence of a long --interval (only comments would come).
    return Action::hang(std::string(kStreamHead) +
                        "event: node\ndata: {\"node\":\"n1\"}\n\n: hb\n");
  });
  FakeClock clock;
  auto feed = std::make_shared<http::Feed>();
  StreamRelay relay(client::discover(agent.url()), {}, feed, clock.options());
  relay.start();
  wait_for_chunk(*feed, [](const std::string& c) { return c.starts_with("event: node"); });
  auto before = feed->latest().sequence;
  clock.advance(std::chrono::milliseconds(1999));
  clock.advance(std::chrono::milliseconds(1));
  std::string chunk =
      wait_for_chunk(*feed, [](const std::string& c) { return c.starts_with("event: heartbeat"); });
  EXPECT_EQ(chunk, "event: heartbeat\ndata: {\"node\":\"n1\"}\n\n");
  EXPECT_EQ(feed->latest().sequence, before + 1);
  EXPECT_EQ(agent.connections(), 1);  // a quiet stream is not a dead one
  relay.stop();
  agent.drop_held();
}

TEST(StreamRelay, ATrickleWithoutCompleteEventsIsCutAfterTheGap) {
  // Bytes keep coming (here: an event that never ends), so the per-read idle limit never fires.
  FakeServer agent([](const std::string&, int index) {
    if (index == 1) return Action::hang(std::string(kStreamHead) + "event: node\ndata: {\"tr");
    return Action::hang(std::string(kStreamHead) + "event: node\ndata: {\"node\":\"again\"}\n\n");
  });
  FakeClock clock;
  auto feed = std::make_shared<http::Feed>();
  StreamRelay relay(client::discover(agent.url()), {}, feed, clock.options());
  relay.start();
  for (int i = 0; i < 1000 && agent.requests() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  clock.advance(std::chrono::milliseconds(30001));
  std::string chunk = wait_for_chunk(
      *feed, [](const std::string& c) { return c.find("again") != std::string::npos; });
  EXPECT_EQ(chunk, "event: node\ndata: {\"node\":\"again\"}\n\n");
  EXPECT_EQ(feed->latest().sequence, 2u);  // the error came first
  EXPECT_EQ(agent.connections(), 2);
  relay.stop();
  agent.drop_held();
}

TEST(StreamRelay, TheGapErrorIsPublished) {
  FakeServer agent([](const std::string&, int) {
    return Action::hang(std::string(kStreamHead) + "event: node\ndata: {\"tr");
  });
  FakeClock clock;
  auto feed = std::make_shared<http::Feed>();
  RelayOptions o = clock.options();
  o.min_backoff = o.max_backoff = std::chrono::seconds(60);  // stays on the error
  StreamRelay relay(client::discover(agent.url()), {}, feed, o);
  relay.start();
  for (int i = 0; i < 1000 && agent.requests() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  clock.advance(std::chrono::milliseconds(30001));
  std::string chunk = wait_for_chunk(
      *feed, [](const std::string& c) { return c.starts_with("event: agent-error"); });
  EXPECT_EQ(chunk,
            "event: agent-error\ndata: {\"error\":\"no complete event from the agent within "
            "30000 ms\"}\n\n");
  relay.stop();
  agent.drop_held();
}

TEST(StreamRelay, AnOversizedEventIsRefused) {
  FakeServer agent([](const std::string&, int) {
    return Action::hang(std::string(kStreamHead) + "event: node\ndata: {\"x\":\"" +
                        std::string(70000, 'a') + "\"}\n\n");
  });
  auto feed = std::make_shared<http::Feed>();
  RelayOptions o;
  o.min_backoff = o.max_backoff = std::chrono::seconds(60);
  StreamRelay relay(client::discover(agent.url()), {}, feed, o);
  relay.start();
  std::string chunk = wait_for_chunk(
      *feed, [](const std::string& c) { return c.starts_with("event: agent-error"); });
  EXPECT_EQ(chunk,
            "event: agent-error\ndata: {\"error\":\"response too large: event of 70008 bytes (at "
            "most 65536)\"}\n\n");
  EXPECT_EQ(feed->latest().sequence, 1u);  // never relayed
  relay.stop();
  agent.drop_held();
}

TEST(StreamRelay, ErrorTextsArePrintable) {
  EXPECT_EQ(StreamRelay::error_chunk(std::string("a\x1b[2Jb") + '\0'),
            "event: agent-error\ndata: {\"error\":\"a\\\\u001b[2Jb\\\\u0000\"}\n\n");
}

TEST(StreamRelay, NoAgentConfiguredIsPublishedOnce) {
  auto feed = std::make_shared<http::Feed>();
  StreamRelay relay(client::discover(std::nullopt, [](std::string_view) { return std::nullopt; }),
                    {}, feed);
  relay.start();
  std::string chunk = wait_for_chunk(
      *feed, [](const std::string& c) { return c.find("agent-error") != std::string::npos; });
  EXPECT_NE(chunk.find("no agent configured"), std::string::npos) << chunk;
  relay.stop();
  EXPECT_EQ(feed->latest().sequence, 1u);
}

}  // namespace
}  // namespace nodeagent::kiada
