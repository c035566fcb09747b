#include "kiada/node_info.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "../client/fake_server.h"

namespace nodeagent::kiada {
namespace {

using testing::Action;
using testing::FakeServer;
using testing::http_response;

constexpr std::string_view kLine =
    "n1 uptime: 1h0m0s, load average: 0.50, 0.40, 0.30, active/total threads: 1/99";

client::ClientOptions options(int ms = 300) {
  client::ClientOptions o;
  o.timeout = std::chrono::milliseconds(ms);
  return o;
}

TEST(NodeInfoFetcher, ReturnsTheAgentsLine) {
  FakeServer agent([](const std::string&, int) {
    return Action::reply(http_response(200, "text/plain", std::string(kLine) + "\n"));
  });
  NodeInfoFetcher fetcher(client::discover(agent.url()), options());
  EXPECT_EQ(fetcher.line(), kLine);
  EXPECT_EQ(fetcher.line(), kLine);
  EXPECT_EQ(agent.connections(), 1);  // kept alive between page views
}

TEST(NodeInfoFetcher, NoAgentConfigured) {
  NodeInfoFetcher fetcher(
      client::discover(std::nullopt, [](std::string_view) { return std::nullopt; }), options());
  EXPECT_EQ(fetcher.line().rfind("ERROR: no agent configured", 0), 0u) << fetcher.line();
}

TEST(NodeInfoFetcher, RefusedAndBadStatusAreErrorsWithCause) {
  unsigned short port;
  {
    FakeServer gone([](const std::string&, int) { return Action::close(); });
    port = gone.port();
  }
  NodeInfoFetcher refused(client::discover("http://127.0.0.1:" + std::to_string(port)), options());
  EXPECT_EQ(refused.line(), "ERROR: connection refused: 127.0.0.1:" + std::to_string(port));

  FakeServer unhappy([](const std::string&, int) {
    return Action::reply(http_response(503, "text/plain", "not ready\n"));
  });
  NodeInfoFetcher bad(client::discover(unhappy.url()), options());
  EXPECT_EQ(bad.line(), "ERROR: bad status 503: GET /: not ready");  // the agent's reason
}

TEST(NodeInfoFetcher, ConcurrentPageViewsShareOneCallToAHungAgent) {
  FakeServer agent([](const std::string&, int) { return Action::hang(); });
  NodeInfoFetcher fetcher(client::discover(agent.url()), options(400));
  std::vector<std::string> lines(6);
  {
    std::vector<std::jthread> views;
    for (auto& l : lines) views.emplace_back([&fetcher, &l] { l = fetcher.line(); });
  }
  for (const auto& l : lines) EXPECT_EQ(l.rfind("ERROR: timeout", 0), 0u) << l;
  // Each view either started a round or joined the one in flight: far fewer calls than views
  // (exactly one unless a view arrived after the first round had finished).
  EXPECT_LE(agent.requests(), 2);
  EXPECT_GE(agent.requests(), 1);
}

}  // namespace
}  // namespace nodeagent::kiada
