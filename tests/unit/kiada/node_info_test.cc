#include "kiada/node_info.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "../client/fake_server.h"
#include "kiada/pages.h"

namespace nodeagent::kiada {
namespace {

using testing::Action;
using testing::FakeServer;
using testing::http_response;

constexpr std::string_view kLine =
    "n1 uptime: 1h0m0s, load average: 0.50, 0.40, 0.30, active/total threads: 1/99";

// What the page shows after "Node info: ".
std::string shown(const NodeLine& line) { return node_info_text(line); }

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
  EXPECT_EQ(shown(fetcher.line()), kLine);
  EXPECT_EQ(shown(fetcher.line()), kLine);
  EXPECT_EQ(agent.connections(), 1);  // kept alive between page views
}

TEST(NodeInfoFetcher, NoAgentConfigured) {
  NodeInfoFetcher fetcher(
      client::discover(std::nullopt, [](std::string_view) { return std::nullopt; }), options());
  EXPECT_EQ(shown(fetcher.line()).rfind("ERROR: no agent configured", 0), 0u)
      << shown(fetcher.line());
}

TEST(NodeInfoFetcher, RefusedAndBadStatusAreErrorsWithCause) {
  unsigned short port;
  {
    FakeServer gone([](const std::string&, int) { return Action::close(); });
    port = gone.port();
  }
  NodeInfoFetcher refused(client::discover("http://127.0.0.1:" + std::to_string(port)), options());
  EXPECT_EQ(shown(refused.line()), "ERROR: connection refused: 127.0.0.1:" + std::to_string(port));

  FakeServer unhappy([](const std::string&, int) {
    return Action::reply(http_response(503, "text/plain", "not ready\n"));
  });
  NodeInfoFetcher bad(client::discover(unhappy.url()), options());
  EXPECT_EQ(shown(bad.line()), "ERROR: bad status 503: GET /: not ready");  // the agent's reason
}

TEST(NodeInfoFetcher, ConcurrentPageViewsShareOneCallToAHungAgent) {
  FakeServer agent([](const std::string&, int) { return Action::hang(); });
  NodeInfoFetcher fetcher(client::discover(agent.url()), options(400));
  std::vector<std::string> lines(6);
  {
    std::vector<std::jthread> views;
    for (auto& l : lines) views.emplace_back([&fetcher, &l] { l = shown(fetcher.line()); });
  }
  for (const auto& l : lines) EXPECT_EQ(l.rfind("ERROR: timeout", 0), 0u) << l;
  // Each view either started a round or joined the one in flight: far fewer calls than views
  // (exactly one unless a view arrived after the first round had finished).
  EXPECT_LE(agent.requests(), 2);
  EXPECT_GE(agent.requests(), 1);
}

TEST(NodeInfoFetcher, AHugeLineIsRefusedAtTheCapNotBuffered) {
  // A hostile or misrouted agent: a 1 MiB "line". Kiada must neither keep nor show it.
  std::atomic<std::size_t> size{1 << 20};
  FakeServer agent([&size](const std::string&, int) {
    return Action::reply(http_response(200, "text/plain", std::string(size.load(), 'x') + "\n"));
  });
  client::ClientOptions o = options();
  ASSERT_GT(o.max_body_bytes, NodeInfoFetcher::kMaxLineBytes);  // the fetcher lowers it
  NodeInfoFetcher fetcher(client::discover(agent.url()), o);
  NodeLine line = fetcher.line();
  ASSERT_FALSE(line);
  EXPECT_EQ(line.error().code, client::ErrorCode::kBodyTooLarge) << line.error().message();
  EXPECT_EQ(shown(line), "ERROR: response too large: more than 4096 bytes");
  // A line just under the cap is still the agent's line.
  size = NodeInfoFetcher::kMaxLineBytes - 1;
  EXPECT_EQ(shown(fetcher.line()).size(), NodeInfoFetcher::kMaxLineBytes - 1);
}

TEST(NodeInfoFetcher, ControlCharactersInTheLineNeverReachThePage) {
  FakeServer agent([](const std::string&, int) {
    return Action::reply(http_response(
        200, "text/plain",
        std::string("n1 uptime: 1s\rNode info: forged\x1b[2J\x07") + '\0' + " end\n"));
  });
  NodeInfoFetcher fetcher(client::discover(agent.url()), options());
  std::string text = shown(fetcher.line());
  EXPECT_EQ(text.find_first_of(std::string("\r\n\x1b\x07") + '\0'), std::string::npos) << text;
  EXPECT_EQ(text, "n1 uptime: 1s\\u000dNode info: forged\\u001b[2J\\u0007\\u0000 end");
}

TEST(NodeInfoFetcher, StopAnswersPendingViewsAndCancelsTheCallToAHungAgent) {
  FakeServer agent([](const std::string&, int) { return Action::hang(); });
  // A long budget: without cancellation stop() would wait for it, and the view would get a
  // timeout error instead of the shutdown error.
  NodeInfoFetcher fetcher(client::discover(agent.url()), options(20000));
  std::promise<NodeLine> answer;
  fetcher.async_line([&answer](NodeLine l) { answer.set_value(std::move(l)); });
  for (int i = 0; i < 1000 && agent.requests() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the call is in flight
  }
  ASSERT_EQ(agent.requests(), 1);
  fetcher.stop();
  NodeLine got = answer.get_future().get();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, client::ErrorCode::kCancelled);
  EXPECT_EQ(shown(got), "ERROR: cancelled: Kiada is shutting down");
  EXPECT_EQ(shown(fetcher.line()), "ERROR: cancelled: Kiada is shutting down");
  agent.drop_held();
}

}  // namespace
}  // namespace nodeagent::kiada
