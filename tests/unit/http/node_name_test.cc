// The Node-Name header is added by the server itself, so that no answer can lack it: routed
// answers, streams and the server's own 400/408/431 refusals alike.

#include <gtest/gtest.h>

#include "test_support.h"

namespace nodeagent::http::test {
namespace {

namespace bhttp = boost::beast::http;

ServerOptions named(std::string node) {
  auto o = tcp_options();
  o.node_name = std::move(node);
  return o;
}

Handler hello() {
  return [](const Request&) { return Response::static_text(200, "hello\n"); };
}

// Sends `request` on a new connection and returns the Node-Name of the answer, or "<none>".
std::string node_of(RunningServer& srv, std::string_view request, unsigned expected_status) {
  auto c = srv.client();
  EXPECT_TRUE(c.send(request));
  auto r = c.read_response();
  if (!r) return "<no response>";
  EXPECT_EQ(r->result_int(), expected_status) << request;
  auto it = r->find("Node-Name");
  return it == r->end() ? "<none>" : std::string(it->value());
}

TEST(NodeName, OnRoutedAnswersAndOnTheServersOwnRefusals) {
  RunningServer srv(named("node-7"), hello());
  EXPECT_EQ(node_of(srv, get("/"), 200), "node-7");
  EXPECT_EQ(node_of(srv, "HELLO\r\n\r\n", 400), "node-7");
  EXPECT_EQ(node_of(srv, "GET / HTTP/1.1\r\n\r\n", 400), "node-7");  // no Host
  EXPECT_EQ(node_of(srv, get("/", cat("X-Big: ", std::string(9 * 1024, 'a'), "\r\n")), 431),
            "node-7");
}

TEST(NodeName, OnA408) {
  auto options = named("node-7");
  options.limits.read_timeout = 200ms;
  RunningServer srv(options, hello());
  auto c = srv.client();
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n"));  // never finished
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 408u);
  EXPECT_EQ((*r)["Node-Name"], "node-7");
}

TEST(NodeName, OnAStreamHead) {
  auto feed = std::make_shared<Feed>();
  RunningServer srv(named("node-7"),
                    [feed](const Request&) { return Response::event_stream(feed); });
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/watch")));
  ASSERT_TRUE(c.read_until_contains("\r\n\r\n"));
  EXPECT_NE(c.raw().find("\r\nNode-Name: node-7\r\n"), std::string::npos) << c.raw();
}

TEST(NodeName, AbsentWhenNotConfigured) {
  RunningServer srv(tcp_options(), hello());
  EXPECT_EQ(node_of(srv, get("/"), 200), "<none>");
}

TEST(NodeName, ControlCharactersAreRefusedAtConstruction) {
  for (const std::string& bad :
       std::vector<std::string>{"a\r\nX-Injected: 1", "a b", std::string("a\0b", 3)}) {
    EXPECT_THROW(Server(named(bad), hello()), std::invalid_argument);
  }
}

TEST(NodeName, AHandlerCannotRemoveIt) {
  RunningServer srv(named("node-7"), [](const Request&) {
    return Response::static_text(200, "x\n").with_header("Node-Name", "forged");
  });
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["Node-Name"], "node-7");
}

}  // namespace
}  // namespace nodeagent::http::test
