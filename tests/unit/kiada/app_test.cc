#include "kiada/app.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>

namespace nodeagent::kiada {
namespace {

namespace bhttp = boost::beast::http;

struct Fixture {
  std::atomic<int> agent_calls{0};
  std::optional<client::Error> agent_error;
  std::shared_ptr<http::Feed> feed = std::make_shared<http::Feed>();
  std::shared_ptr<StatusMessage> status = std::make_shared<StatusMessage>("initial");
  App app{AppDeps{PodInfo{"pod-1", "node-1", "host-1", "10.0.0.2", "192.168.0.1"},
                  "--url http://127.0.0.1:1",
                  [this](std::function<void(client::Result<std::string>)> done) {
                    ++agent_calls;
                    if (agent_error) {
                      done(*agent_error);
                    } else {
                      done(
                          std::string("node-1 uptime: 1m0s, load average: 0.10, 0.20, 0.30, "
                                      "active/total threads: 1/100"));
                    }
                  },
                  feed, status}};
};

// Runs a deferred answer to completion (the fake agent answers synchronously).
http::Response resolve(http::Response r) {
  if (!r.deferred()) return r;
  std::optional<http::Response> answer;
  std::get<http::Response::Deferred>(r.content).start(
      [&answer](http::Response a) { answer = std::move(a); });
  EXPECT_TRUE(answer.has_value());
  EXPECT_FALSE(answer->deferred());
  return answer ? std::move(*answer) : http::Response{};
}

http::Request get(std::string_view target, std::string_view accept = "*/*") {
  http::Request r;
  r.method = bhttp::verb::get;
  r.method_string = "GET";
  r.target = target;
  r.accept = accept;
  r.remote.ip = boost::asio::ip::make_address("127.0.0.1");
  r.remote.port = 40000;
  return r;
}

TEST(App, TextPageForCurlAndOnText) {
  Fixture f;
  for (std::string_view path : {"/", "/text", "/text?x=1"}) {
    http::Response deferred = f.app.handle(get(path));
    EXPECT_TRUE(deferred.deferred()) << "pages must not wait on the event loop";
    http::Response r = resolve(std::move(deferred));
    EXPECT_EQ(r.status, 200u) << path;
    EXPECT_EQ(r.content_type, http::kTextPlain);
    EXPECT_NE(r.body().find("running in pod \"pod-1\" on node \"node-1\"."), std::string::npos);
    EXPECT_NE(r.body().find("Client IP: 127.0.0.1"), std::string::npos);
    EXPECT_NE(r.body().find("Node info: node-1 uptime: 1m0s"), std::string::npos);
    EXPECT_NE(r.body().find("Status message: initial"), std::string::npos);
  }
  EXPECT_EQ(f.agent_calls.load(), 3);
}

TEST(App, BrowsersAreRedirectedToHtml) {
  Fixture f;
  http::Response r = f.app.handle(get("/", "text/html,application/xhtml+xml,*/*;q=0.8"));
  EXPECT_EQ(r.status, 302u);
  ASSERT_FALSE(r.headers.empty());
  bool location = false;
  for (const auto& [k, v] : r.headers) location |= (k == "Location" && v == "/html");
  EXPECT_TRUE(location);
  EXPECT_EQ(f.agent_calls.load(), 0);  // a redirect does not bother the agent
}

TEST(App, HtmlPageShowsTheFactsAndStatusUpdates) {
  Fixture f;
  f.status->set("changed <b>");
  http::Response r = resolve(f.app.handle(get("/html")));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, http::kTextHtml);
  EXPECT_NE(r.body().find("<script src=\"/assets/kiada.js\"></script>"), std::string::npos);
  EXPECT_NE(r.body().find("changed &lt;b&gt;"), std::string::npos);
  EXPECT_NE(r.body().find("Node info: node-1 uptime"), std::string::npos);
}

TEST(App, NodeInfoRouteGivesTheCardsTextForTheLivePage) {
  Fixture f;
  http::Response ok = resolve(f.app.handle(get("/node-info")));
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(ok.body(),
            "node-1 uptime: 1m0s, load average: 0.10, 0.20, 0.30, "
            "active/total threads: 1/100\n");
  f.agent_error = client::Error{client::ErrorCode::kConnectionRefused, "127.0.0.1:1", 0};
  http::Response bad = resolve(f.app.handle(get("/node-info")));
  EXPECT_EQ(bad.status, 502u);
  EXPECT_EQ(bad.body(), "ERROR: connection refused: 127.0.0.1:1\n");
  http::Response page = resolve(f.app.handle(get("/html")));
  EXPECT_NE(page.body().find("class=\"error\">Node info: ERROR: connection refused: 127.0.0.1:1"),
            std::string::npos);
}

TEST(App, UnixSocketClients) {
  Fixture f;
  http::Request r = get("/text");
  r.remote.ip.reset();
  EXPECT_NE(resolve(f.app.handle(r)).body().find("Client IP: unix"), std::string::npos);
}

TEST(App, EventsStreamTheRelayFeed) {
  Fixture f;
  http::Response r = f.app.handle(get("/events"));
  EXPECT_EQ(r.stream(), f.feed);
  EXPECT_EQ(r.content_type, http::kTextEventStream);
}

TEST(App, AssetsReadinessAndErrors) {
  Fixture f;
  http::Response js = f.app.handle(get("/assets/kiada.js"));
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(f.app.handle(get("/assets/kiada.css")).status, 200u);
  EXPECT_EQ(f.app.handle(get("/assets/index.html")).status, 404u);  // only via /html
  EXPECT_EQ(f.app.handle(get("/assets/../main.cc")).status, 404u);
  EXPECT_EQ(f.app.handle(get("/healthz/ready")).status, 200u);
  EXPECT_EQ(f.app.handle(get("/nope")).status, 404u);
  http::Request post = get("/");
  post.method = bhttp::verb::post;
  http::Response r = f.app.handle(post);
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(f.agent_calls.load(), 0);
}

}  // namespace
}  // namespace nodeagent::kiada
