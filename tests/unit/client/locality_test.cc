// The locality check (ClientOptions::expected_node): an answer from another node, or one that
// does not say which node it is, is kWrongNode and never data.
#include <gtest/gtest.h>

#include "fake_server.h"
#include "nodeagent/client.h"

namespace nodeagent::client {
namespace {

using testing::Action;
using testing::FakeServer;
using testing::http_response;
using testing::node_header;

constexpr std::string_view kLine =
    "n2 uptime: 1s, load average: 0.00, 0.00, 0.00, active/total threads: 1/1\n";

Client client_for(const FakeServer& server, std::string expected) {
  ClientOptions o;
  o.timeout = std::chrono::milliseconds(2000);
  o.expected_node = std::move(expected);
  return Client(*parse_url(server.url()), o);
}

TEST(Locality, TheExpectedNodeGetsItsData) {
  FakeServer server([](const std::string& target, int) {
    if (target == "/")
      return Action::reply(http_response(200, "text/plain", kLine, node_header("n2")));
    return Action::reply(
        http_response(200, "application/json", R"({"node":"n2"})", node_header("n2")));
  });
  Client client = client_for(server, "n2");
  auto line = client.text();
  ASSERT_TRUE(line) << line.error().message();
  auto node = client.node();
  ASSERT_TRUE(node) << node.error().message();
  EXPECT_EQ(node->node, "n2");
  auto raw = client.get("/v1/node");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->node_name, "n2");
}

TEST(Locality, AnotherNodesAnswerIsAnErrorOnEveryCallAndStatus) {
  FakeServer server([](const std::string& target, int) {
    if (target == "/missing") {
      return Action::reply(http_response(404, "text/plain", "not found\n", node_header("n2")));
    }
    if (target == "/")
      return Action::reply(http_response(200, "text/plain", kLine, node_header("n2")));
    return Action::reply(
        http_response(200, "application/json", R"({"node":"n2"})", node_header("n2")));
  });
  Client client = client_for(server, "n1");
  const std::string expected =
      "wrong node: answer from node \"n2\", expected \"n1\" (" + server.url() + ")";
  auto line = client.text();
  ASSERT_FALSE(line);
  EXPECT_EQ(line.error().code, ErrorCode::kWrongNode);
  EXPECT_EQ(line.error().message(), expected);
  auto node = client.node();
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error().message(), expected);
  auto raw = client.get("/missing");  // an error answer is checked too
  ASSERT_FALSE(raw);
  EXPECT_EQ(raw.error().code, ErrorCode::kWrongNode);
  // Not retried (a retry would hide a misrouted Service), and the connection is dropped so the
  // next call asks afresh.
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 3);
}

TEST(Locality, AnAnswerThatNamesNoNodeIsRefused) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(http_response(200, "text/plain", kLine));
  });
  Client client = client_for(server, "n1");
  auto line = client.text();
  ASSERT_FALSE(line);
  EXPECT_EQ(
      line.error().message(),
      "wrong node: answer without a Node-Name header, expected \"n1\" (" + server.url() + ")");
  // Without an expected node there is no check, and get() still says who answered.
  Client unchecked = client_for(server, "");
  ASSERT_TRUE(unchecked.text());
}

TEST(Locality, TheDocumentMustNameTheNodeToo) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(
        http_response(200, "application/json", R"({"node":"n2"})", node_header("n1")));
  });
  Client client = client_for(server, "n1");
  auto node = client.node();
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error().code, ErrorCode::kWrongNode);
  EXPECT_NE(node.error().message().find("document from node \"n2\""), std::string::npos)
      << node.error().message();
}

TEST(Locality, NodeNamesInMessagesAreMadePrintable) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(http_response(
        200, "application/json", R"({"node":"n2\u001b[2J\r\nNode info: ok"})", node_header("n1")));
  });
  Client client = client_for(server, "n1");
  auto node = client.node();
  ASSERT_FALSE(node);
  const std::string message = node.error().message();
  EXPECT_EQ(message.find_first_of("\x1b\r\n"), std::string::npos) << message;
  EXPECT_NE(message.find(R"(node "n2\u001b[2J\u000d\u000aNode info: ok")"), std::string::npos)
      << message;
}

std::string sse_head(std::string_view node) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" +
         (node.empty() ? std::string() : node_header(node)) + "\r\n";
}

TEST(Locality, WatchChecksTheStreamsHeader) {
  FakeServer server([](const std::string&, int) {
    return Action::hang(sse_head("n2") + "data: {\"node\":\"n2\"}\n\n");
  });
  Client client = client_for(server, "n1");
  int events = 0;
  auto r = client.watch([&](const SseEvent&) { return ++events < 10; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kWrongNode) << r.error().message();
  EXPECT_NE(r.error().message().find("stream from node \"n2\""), std::string::npos);
  EXPECT_EQ(events, 0);
  server.drop_held();
}

TEST(Locality, WatchChecksEveryEvent) {
  struct Case {
    const char* name;
    std::string second_event;
    const char* message_part;
  };
  const Case cases[] = {
      {"other node", "data: {\"node\":\"n2\"}\n\n", "event from node \"n2\""},
      {"no node member", "data: {\"load\":1}\n\n", "event names no node"},
      {"not JSON", "data: n1\n\n", "event names no node"},
  };
  for (const Case& c : cases) {
    FakeServer server([&](const std::string&, int) {
      return Action::hang(sse_head("n1") + "data: {\"node\":\"n1\"}\n\n" + c.second_event +
                          "data: {\"node\":\"n1\"}\n\n");
    });
    ClientOptions o;
    o.expected_node = "n1";
    Client client(*parse_url(server.url()), o);
    int events = 0;
    WatchOptions wo;
    wo.reconnect = true;  // a wrong node is not something a reconnection cures
    auto r = client.watch([&](const SseEvent&) { return ++events < 10; }, {}, wo);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kWrongNode) << c.name;
    EXPECT_NE(r.error().message().find(c.message_part), std::string::npos)
        << c.name << ": " << r.error().message();
    EXPECT_EQ(events, 1) << c.name;  // the foreign event never reached the callback
    EXPECT_EQ(server.connections(), 1) << c.name;
    server.drop_held();
  }
}

}  // namespace
}  // namespace nodeagent::client
