#include "agent/routes.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <string>
#include <vector>

namespace nodeagent::agent {
namespace {

using boost::beast::http::verb;
using Clock = std::chrono::steady_clock;

std::shared_ptr<Published> sample(bool ok, Clock::time_point at) {
  auto p = std::make_shared<Published>();
  p->snapshot = std::make_shared<nodeinfo::Snapshot>();
  p->sampled_at = at;
  p->ok = ok;
  p->text = "n1 uptime: 1s, load average: 0.00, 0.00, 0.00, active/total threads: 1/1\n";
  p->json = R"({"node":"n1"})";
  p->metrics = "node_load1 0\n";
  p->unavailable = ok ? "" : "node info unavailable: /proc/loadavg: No such file or directory\n";
  return p;
}

http::Request get(std::string_view target, std::string_view accept = "") {
  http::Request r;
  r.method = verb::get;
  r.method_string = "GET";
  r.target = target;
  r.accept = accept;
  return r;
}

class RoutesTest : public testing::Test {
 protected:
  Clock::time_point now_ = Clock::now();
  RouteContext context_{std::make_shared<http::Feed>(),
                        std::make_shared<const std::string>(R"({"version":"x"})"),
                        std::chrono::seconds(4)};
  http::Response call(const http::Request& r, const std::shared_ptr<const Published>& state) {
    return respond(r, state, context_, now_);
  }
};

TEST_F(RoutesTest, RootServesTheSeedLineSharedWithoutCopy) {
  auto state = sample(true, now_);
  http::Response r = call(get("/"), state);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, http::kTextPlain);
  EXPECT_EQ(r.body(), state->text);
  EXPECT_EQ(r.body().data(), state->text.data());
}

TEST_F(RoutesTest, RootServesJsonOnlyWhenRankedAboveText) {
  auto state = sample(true, now_);
  const std::pair<std::string_view, bool> cases[] = {
      {"", false},
      {"*/*", false},  // curl
      {"text/plain", false},
      {"application/json", true},
      {"Application/JSON", true},
      {"application/*", true},
      {"application/json, text/plain", false},  // equal q: the seed line
      {"application/json, text/plain;q=0.9", true},
      {"text/plain;q=0.5, application/json", true},
      {"application/json;q=0.5, text/plain", false},
      {"application/json;q=0.5, */*;q=0.1", true},
      {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},  // a browser
      {"application/json;q=0", false},
      {"application/json;q=banana", false},
      {"application/json; charset=utf-8", true},
      {",,,;;;", false},
  };
  for (const auto& [accept, json] : cases) {
    http::Response r = call(get("/", accept), state);
    EXPECT_EQ(r.status, 200u) << accept;
    EXPECT_EQ(r.content_type, json ? http::kApplicationJson : http::kTextPlain) << accept;
    EXPECT_EQ(r.body(), json ? state->json : state->text) << accept;
  }
}

TEST_F(RoutesTest, QueryStringsAreIgnored) {
  EXPECT_EQ(call(get("/v1/node?pretty=1"), sample(true, now_)).status, 200u);
}

TEST_F(RoutesTest, AbsoluteFormTargetsAreServed) {
  auto state = sample(true, now_);
  EXPECT_EQ(call(get("http://node-1:11559/v1/node"), state).body(), state->json);
  EXPECT_EQ(call(get("HTTP://node-1"), state).body(), state->text);
  EXPECT_EQ(call(get("https://x/metrics?y"), state).body(), state->metrics);
  EXPECT_EQ(call(get("http://x/nope"), state).status, 404u);
  EXPECT_EQ(call(get("http:/v1/node"), state).status, 404u);
}

TEST_F(RoutesTest, RootVariesByAccept) {
  for (bool ok : {true, false}) {
    for (auto accept : {"", "application/json"}) {
      http::Response r = call(get("/", accept), sample(ok, now_));
      EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                          std::pair<std::string_view, std::string>("Vary", "Accept")),
                r.headers.end())
          << ok << accept;
    }
  }
}

TEST_F(RoutesTest, DataRoutesAnswer503WithTheReasonWhenSourcesFail) {
  auto state = sample(false, now_);
  for (auto target : {"/", "/readyz"}) {
    http::Response r = call(get(target), state);
    EXPECT_EQ(r.status, 503u) << target;
    EXPECT_EQ(r.content_type, http::kTextPlain) << target;
    EXPECT_EQ(r.body(), state->unavailable) << target;
  }
  // JSON clients get the document itself: what could be read, nulls and `errors`.
  for (http::Request r : {get("/v1/node"), get("/v1/node/watch"), get("/", "application/json")}) {
    http::Response answer = call(r, state);
    EXPECT_EQ(answer.status, 503u) << r.target;
    EXPECT_EQ(answer.content_type, http::kApplicationJson) << r.target;
    EXPECT_EQ(answer.body(), state->json) << r.target;
    EXPECT_FALSE(answer.stream()) << r.target;
  }
  EXPECT_EQ(call(get("/healthz"), state).status, 200u);
  EXPECT_EQ(call(get("/metrics"), state).status, 200u);
}

TEST_F(RoutesTest, NothingIsServedBeforeTheFirstSample) {
  for (auto target : {"/", "/v1/node", "/metrics", "/readyz", "/v1/node/watch"}) {
    EXPECT_EQ(call(get(target), nullptr).status, 503u) << target;
  }
  EXPECT_EQ(call(get("/healthz"), nullptr).status, 200u);
}

TEST_F(RoutesTest, ReadinessFailsWhenTheSampleIsStale) {
  EXPECT_EQ(call(get("/readyz"), sample(true, now_ - std::chrono::seconds(3))).status, 200u);
  http::Response stale = call(get("/readyz"), sample(true, now_ - std::chrono::seconds(5)));
  EXPECT_EQ(stale.status, 503u);
  EXPECT_NE(stale.body().find("stale"), std::string_view::npos);
}

TEST_F(RoutesTest, ReadinessFailsOnceShutdownBeganWhileEverythingElseServes) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  context_.shutting_down = flag;
  auto state = sample(true, now_);
  EXPECT_EQ(call(get("/readyz"), state).status, 200u);
  flag->store(true);
  http::Response r = call(get("/readyz"), state);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body(), "shutting down\n");
  for (auto target : {"/", "/v1/node", "/metrics", "/healthz"}) {
    EXPECT_EQ(call(get(target), state).status, 200u) << target;
  }
}

TEST_F(RoutesTest, WatchStreamsTheFeed) {
  http::Response r = call(get("/v1/node/watch"), sample(true, now_));
  EXPECT_EQ(r.stream(), context_.feed);
}

TEST_F(RoutesTest, AgentServesTheSelfReport) {
  http::Response r = call(get("/v1/agent"), sample(true, now_));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body(), *context_.agent_report);
}

TEST_F(RoutesTest, UnknownPathIs404EvenForOtherMethods) {
  EXPECT_EQ(call(get("/nope"), sample(true, now_)).status, 404u);
  http::Request post = get("/nope");
  post.method = verb::post;
  EXPECT_EQ(call(post, sample(true, now_)).status, 404u);
}

TEST_F(RoutesTest, OtherMethodsAre405WithAllow) {
  for (verb v : {verb::post, verb::put, verb::delete_, verb::options, verb::unknown}) {
    http::Request r = get("/v1/node");
    r.method = v;
    http::Response resp = call(r, sample(true, now_));
    EXPECT_EQ(resp.status, 405u);
    ASSERT_EQ(resp.headers.size(), 1u);
    EXPECT_EQ(resp.headers[0].first, "Allow");
    EXPECT_EQ(resp.headers[0].second, "GET, HEAD");
  }
}

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

std::string gunzip(std::string_view z) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
  s.avail_in = static_cast<uInt>(z.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  inflateEnd(&s);
  return out;
}

TEST_F(RoutesTest, MetricsAreGzippedOncePerSampleForClientsThatAcceptIt) {
  auto p = sample(true, now_);
  for (int i = 0; i < 500; ++i)
    p->metrics += "node_cpu_seconds_total{cpu=\"" + std::to_string(i) + "\"} 1\n";
  std::shared_ptr<const Published> state = p;
  std::vector<http::HeaderField> fields{{"Accept-Encoding", "deflate, gzip;q=0.8, br"}};
  http::Request r = get("/metrics");
  r.headers = fields;
  http::Response first = call(r, state);
  EXPECT_EQ(first.status, 200u);
  EXPECT_EQ(header(first, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(first, "Vary"), "Accept-Encoding");
  EXPECT_LT(first.body().size(), state->metrics.size() / 4);
  EXPECT_EQ(gunzip(first.body()), state->metrics);
  // The second request gets the same compressed bytes: compressed once, not per request.
  EXPECT_EQ(call(r, state).body().data(), first.body().data());

  for (std::string_view refused : {"", "identity", "gzip;q=0", "br, *;q=0", "x-gzip2"}) {
    std::vector<http::HeaderField> f{{"accept-encoding", refused}};
    http::Request plain = get("/metrics");
    plain.headers = f;
    http::Response answer = call(plain, state);
    EXPECT_EQ(answer.body().data(), state->metrics.data()) << refused;
    EXPECT_EQ(header(answer, "Content-Encoding"), "") << refused;
    EXPECT_EQ(header(answer, "Vary"), "Accept-Encoding") << refused;
  }
  std::vector<http::HeaderField> any{{"Accept-Encoding", "*"}};
  r.headers = any;
  EXPECT_EQ(header(call(r, state), "Content-Encoding"), "gzip");
}

TEST_F(RoutesTest, HeadIsServedLikeGet) {
  http::Request r = get("/");
  r.method = verb::head;
  EXPECT_EQ(call(r, sample(true, now_)).status, 200u);
}

TEST(RouterTest, RefusesClientsOutsideTheAllowListAndCountsEveryAnswer) {
  Board board;
  board.publish(std::make_shared<Published>(Published{std::make_shared<nodeinfo::Snapshot>(),
                                                      Clock::now(), true, "", "line\n", "{}", ""}));
  AccessList access;
  ASSERT_TRUE(access.add("10.0.0.0/8"));
  RequestCounters counters;
  Router router(board, access, RouteContext{nullptr, nullptr, std::chrono::seconds(4)}, counters);

  http::Request inside = get("/");
  inside.remote.ip = boost::asio::ip::make_address("10.1.2.3");
  EXPECT_EQ(router.handle(inside).status, 200u);
  http::Request outside = get("/");
  outside.remote.ip = boost::asio::ip::make_address("192.168.0.1");
  http::Response refused = router.handle(outside);
  EXPECT_EQ(refused.status, 403u);
  EXPECT_TRUE(refused.close) << "a refused client's pipelined requests are not read";
  EXPECT_FALSE(router.handle(inside).close);
  http::Request unix_client = get("/nope");  // unix sockets: no IP, not filtered
  EXPECT_EQ(router.handle(unix_client).status, 404u);

  EXPECT_EQ(counters.get(Route::kRoot, 200), 2u);
  EXPECT_EQ(counters.get(Route::kRoot, 403), 1u);
  EXPECT_EQ(counters.get(Route::kOther, 404), 1u);
  EXPECT_EQ(counters.get(Route::kMetrics, 200), 0u);
}

TEST_F(RoutesTest, HealthzFailsWhileOneSampleRunsTooLong) {
  auto heartbeat = std::make_shared<Heartbeat>();
  context_.heartbeat = heartbeat;
  context_.stalled_after = std::chrono::seconds(10);
  auto state = sample(true, now_);
  EXPECT_EQ(call(get("/healthz"), state).status, 200u);  // idle between samples
  heartbeat->begin(now_ - std::chrono::seconds(10));
  EXPECT_EQ(call(get("/healthz"), state).status, 200u);  // at the threshold: still alive
  heartbeat->begin(now_ - std::chrono::seconds(11));
  http::Response r = call(get("/healthz"), state);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body(), "sampler stalled: one sample has run for 11s (a source read is stuck)\n");
  heartbeat->end();
  EXPECT_EQ(call(get("/healthz"), state).status, 200u);
}

TEST(StallThreshold, ThreeIntervalsWithinTenToSixtySeconds) {
  EXPECT_EQ(stall_threshold(std::chrono::milliseconds(100)), std::chrono::seconds(10));
  EXPECT_EQ(stall_threshold(std::chrono::seconds(1)), std::chrono::seconds(10));
  EXPECT_EQ(stall_threshold(std::chrono::seconds(15)), std::chrono::seconds(45));
  EXPECT_EQ(stall_threshold(std::chrono::hours(1)), std::chrono::seconds(60));
}

}  // namespace
}  // namespace nodeagent::agent
