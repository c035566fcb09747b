#include "nodeagent/sse.h"

#include <gtest/gtest.h>

#include <vector>

namespace nodeagent::client {
namespace {

// The whole chunk was consumed: no error, and no callback asked to stop.
bool consumed(const Result<bool>& r) { return r && *r; }

std::vector<SseEvent> parse_in_pieces(std::string_view stream, std::size_t piece) {
  SseParser parser;
  std::vector<SseEvent> out;
  for (std::size_t i = 0; i < stream.size(); i += piece) {
    auto r = parser.feed(stream.substr(i, piece), [&](const SseEvent& e) {
      out.push_back(e);
      return true;
    });
    EXPECT_TRUE(consumed(r));
  }
  return out;
}

TEST(SseParser, ParsesTheAgentsFramingInAnyChunking) {
  const std::string stream =
      ": keep-alive comment\n"
      "id: 1700000000000\nevent: node\ndata: {\"node\":\"n1\"}\n\n"
      "id: 1700000001000\r\nevent: node\r\ndata: {\"node\":\"n1\",\r\ndata: \"x\":1}\r\n\r\n"
      "data:no-space\rretry: 1500\r\r";
  for (std::size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    auto events = parse_in_pieces(stream, piece);
    ASSERT_EQ(events.size(), 3u) << "piece " << piece;
    EXPECT_EQ(events[0].type, "node");
    EXPECT_EQ(events[0].id, "1700000000000");
    EXPECT_EQ(events[0].data, "{\"node\":\"n1\"}");
    EXPECT_EQ(events[1].data, "{\"node\":\"n1\",\n\"x\":1}");
    EXPECT_EQ(events[1].id, "1700000001000");
    EXPECT_EQ(events[2].type, "message");
    EXPECT_EQ(events[2].data, "no-space");
    EXPECT_EQ(events[2].id, "1700000001000");  // ids persist
    EXPECT_EQ(events[2].retry_ms, 1500);
  }
}

TEST(SseParser, EventsWithoutDataAreNotDispatched) {
  auto events = parse_in_pieces("event: node\n\nid: 3\n\n: c\n\n", 4);
  EXPECT_TRUE(events.empty());
}

TEST(SseParser, IncompleteEventIsHeldBack) {
  SseParser parser;
  int n = 0;
  auto count = [&](const SseEvent&) {
    ++n;
    return true;
  };
  EXPECT_TRUE(consumed(parser.feed("data: a\n", count)));
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(consumed(parser.feed("\n", count)));
  EXPECT_EQ(n, 1);
}

TEST(SseParser, CallbackCanStopTheStream) {
  SseParser parser;
  int n = 0;
  auto more =
      parser.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n", [&](const SseEvent&) { return ++n < 2; });
  ASSERT_TRUE(more) << more.error().message();
  EXPECT_FALSE(*more);
  EXPECT_EQ(n, 2);
}

TEST(SseParser, CallbackErrorStopsTheStreamWithIt) {
  SseParser parser;
  int n = 0;
  auto r = parser.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n", [&](const SseEvent&) -> Result<bool> {
    if (++n == 2) return Error{ErrorCode::kWrongNode, "event from node \"n2\""};
    return true;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kWrongNode);
  EXPECT_EQ(r.error().detail, "event from node \"n2\"");
  EXPECT_EQ(n, 2);  // the third event is not delivered
}

TEST(SseParser, OversizedEventIsAProtocolError) {
  SseParser parser(64);
  std::string big = "data: " + std::string(100, 'x');
  const auto all = [](const SseEvent&) { return true; };
  auto r = parser.feed(big, all);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  EXPECT_EQ(r.error().message(), "protocol error: event larger than 64 bytes");
  // The stream stays broken.
  auto again = parser.feed("\n\n", all);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kProtocol);
}

TEST(SseParser, OversizedDataLinesAreAProtocolError) {
  SseParser parser(64);
  int n = 0;
  auto r = parser.feed("data: " + std::string(40, 'x') + "\ndata: " + std::string(40, 'y') + "\n",
                       [&](const SseEvent&) { return ++n, true; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "event larger than 64 bytes");
  EXPECT_EQ(n, 0);
}

TEST(SseParser, IgnoresUnknownFieldsAndBadRetry) {
  auto events = parse_in_pieces("foo: bar\nretry: 12x\ndata\n\n", 5);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "");  // "data" with no colon is an empty data line
  EXPECT_FALSE(events[0].retry_ms.has_value());
}

TEST(SseParser, RetryIsTheStreamsReconnectionTime) {
  SseParser parser;
  int events = 0;
  const auto count = [&](const SseEvent&) { return ++events, true; };
  EXPECT_FALSE(parser.retry_ms().has_value());
  // The agent's preamble: a block with only retry:, which dispatches no event.
  ASSERT_TRUE(consumed(parser.feed("retry: 2000\n\n", count)));
  EXPECT_EQ(events, 0);
  EXPECT_EQ(parser.retry_ms(), 2000);
  ASSERT_TRUE(consumed(parser.feed(": heartbeat\n\nretry: -5\n\nretry: 1e3\n\nretry:\n\n", count)));
  EXPECT_EQ(parser.retry_ms(), 2000);  // invalid values leave it alone
  ASSERT_TRUE(consumed(parser.feed("retry: 500\ndata: x\n\n", count)));
  EXPECT_EQ(parser.retry_ms(), 500);
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace nodeagent::client
