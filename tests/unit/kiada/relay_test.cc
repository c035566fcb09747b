#include "kiada/relay.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(StreamRelay::error_chunk("connection refused: \"x\"\n"),
            "event: agent-error\ndata: {\"error\":\"connection refused: \\\"x\\\"\\n\"}\n\n");
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
