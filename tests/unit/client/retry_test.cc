// Retrying inside the one deadline (RetryOptions) and a watch that reconnects by itself
// (WatchOptions::reconnect). Attempts are counted (on_retry, the fake server's counters); no
// assertion depends on how long anything took.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stop_token>
#include <vector>

#include "fake_server.h"
#include "nodeagent/client.h"

namespace nodeagent::client {
namespace {

using std::chrono::milliseconds;
using testing::Action;
using testing::FakeServer;
using testing::http_response;

constexpr std::string_view kLine =
    "n1 uptime: 1s, load average: 0.00, 0.00, 0.00, active/total threads: 1/1\n";

Action ok() { return Action::reply(http_response(200, "text/plain", kLine)); }

// A generous timeout and tiny pauses: the attempt counts, not the clock, decide these tests.
ClientOptions retrying(std::vector<RetryEvent>* seen, milliseconds timeout = milliseconds(5000)) {
  ClientOptions o;
  o.timeout = timeout;
  o.retry.initial_backoff = milliseconds(1);
  o.retry.max_backoff = milliseconds(4);
  o.retry.on_retry = [seen](const RetryEvent& e) { seen->push_back(e); };
  return o;
}

std::string temp_socket_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string(name) + "-" + std::to_string(::getpid()) + ".sock"))
      .string();
}

TEST(Retry, RefusedConnectionsAreRetriedUntilTheAgentListens) {
  FakeServer server([](const std::string&, int) { return ok(); }, {}, FakeServer::Listen::kLater);
  std::vector<RetryEvent> seen;
  ClientOptions o = retrying(&seen);
  o.retry.on_retry = [&](const RetryEvent& e) {
    seen.push_back(e);
    if (seen.size() == 3) server.start_listening();  // the new agent is up
  };
  Client client(*parse_url(server.url()), o);
  auto line = client.text();
  ASSERT_TRUE(line) << line.error().message();
  ASSERT_EQ(seen.size(), 3u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].attempt, static_cast<int>(i) + 1);
    EXPECT_EQ(seen[i].error.code, ErrorCode::kConnectionRefused);
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(Retry, AMissingUnixSocketIsWaitedFor) {
  const std::string path = temp_socket_path("retry-missing");
  FakeServer server([](const std::string&, int) { return ok(); }, path, FakeServer::Listen::kLater);
  ASSERT_FALSE(std::filesystem::exists(path));
  std::vector<RetryEvent> seen;
  ClientOptions o = retrying(&seen);
  o.retry.on_retry = [&](const RetryEvent& e) {
    seen.push_back(e);
    if (seen.size() == 2) server.start_listening();  // the socket appears (rename() in place)
  };
  Client client(*parse_url("unix://" + path), o);
  auto line = client.text();
  ASSERT_TRUE(line) << line.error().message();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].error.code, ErrorCode::kConnectionRefused);
  EXPECT_NE(seen[0].error.message().find("no socket at"), std::string::npos);
}

TEST(Retry, AConnectionClosedBeforeAnyAnswerIsRetried) {
  FakeServer server(
      [](const std::string&, int index) { return index <= 2 ? Action::close() : ok(); });
  std::vector<RetryEvent> seen;
  Client client(*parse_url(server.url()), retrying(&seen));
  auto line = client.text();
  ASSERT_TRUE(line) << line.error().message();
  EXPECT_EQ(server.requests(), 3);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].error.code, ErrorCode::kConnectionClosed);
}

TEST(Retry, AHalfAnswerIsNotRetried) {
  // The agent had started answering: the exchange is not repeated behind the caller's back.
  FakeServer server([](const std::string&, int) {
    return Action::reply_and_close("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a bit");
  });
  std::vector<RetryEvent> seen;
  Client client(*parse_url(server.url()), retrying(&seen));
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionClosed) << r.error().message();
  EXPECT_EQ(server.requests(), 1);
  EXPECT_TRUE(seen.empty());
}

TEST(Retry, ANotReadyAgentIsAskedAgain) {
  struct Case {
    const char* name;
    std::string not_ready;
  };
  const Case cases[] = {
      {"no sample yet", http_response(503, "text/plain; charset=utf-8", "no sample yet\n")},
      {"Retry-After", http_response(503, "text/html", "<p>busy</p>", "Retry-After: 1\r\n")},
  };
  for (const Case& c : cases) {
    FakeServer server([&](const std::string&, int index) {
      return index <= 2 ? Action::reply(c.not_ready) : ok();
    });
    std::vector<RetryEvent> seen;
    Client client(*parse_url(server.url()), retrying(&seen));
    auto line = client.text();
    ASSERT_TRUE(line) << c.name << ": " << line.error().message();
    EXPECT_EQ(server.requests(), 3) << c.name;
    ASSERT_EQ(seen.size(), 2u) << c.name;
    EXPECT_EQ(seen[0].error.code, ErrorCode::kBadStatus);
    EXPECT_EQ(seen[0].error.http_status, 503u);
    EXPECT_EQ(server.connections(), 1) << c.name;  // the kept-alive connection carries on
  }
}

TEST(Retry, OtherAnswersAreFinal) {
  struct Case {
    const char* name;
    std::string answer;
  };
  const Case cases[] = {
      {"503 sources unreadable", http_response(503, "text/plain", "loadavg: unreadable\n")},
      {"503 shutting down", http_response(503, "text/plain", "shutting down\n")},
      {"404", http_response(404, "text/plain", "not found\n")},
      {"500", http_response(500, "text/plain", "no sample yet\n")},
  };
  for (const Case& c : cases) {
    FakeServer server([&](const std::string&, int) { return Action::reply(c.answer); });
    std::vector<RetryEvent> seen;
    Client client(*parse_url(server.url()), retrying(&seen));
    auto line = client.text();
    ASSERT_FALSE(line) << c.name;
    EXPECT_EQ(line.error().code, ErrorCode::kBadStatus) << c.name;
    EXPECT_EQ(server.requests(), 1) << c.name;
    EXPECT_TRUE(seen.empty()) << c.name;
  }
}

TEST(Retry, NoPauseEndsBeyondTheDeadline) {
  // Every pause is drawn from [backoff/2, backoff]; a 1 s backoff cannot fit into 300 ms, so the
  // refused attempt is the only one and its error comes back at once.
  FakeServer server([](const std::string&, int) { return ok(); }, {}, FakeServer::Listen::kLater);
  std::vector<RetryEvent> seen;
  ClientOptions o = retrying(&seen, milliseconds(300));
  o.retry.initial_backoff = milliseconds(1000);
  o.retry.max_backoff = milliseconds(1000);
  Client client(*parse_url(server.url()), o);
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionRefused) << r.error().message();
  EXPECT_TRUE(seen.empty());
}

TEST(Retry, EveryPauseFitsIntoWhatIsLeftOfTheTimeout) {
  FakeServer server([](const std::string&, int) {
    return Action::reply(http_response(503, "text/plain", "no sample yet\n"));
  });
  std::vector<RetryEvent> seen;
  ClientOptions o = retrying(&seen, milliseconds(200));
  o.retry.initial_backoff = milliseconds(5);
  o.retry.max_backoff = milliseconds(40);
  Client client(*parse_url(server.url()), o);
  auto line = client.text();
  ASSERT_FALSE(line);
  // The budget ran out on a not-ready agent: its last answer is the error.
  EXPECT_EQ(line.error().message(), "bad status 503: GET /: no sample yet");
  ASSERT_FALSE(seen.empty());
  milliseconds paused{0};
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_LT(seen[i].delay, seen[i].remaining) << i;
    EXPECT_LE(seen[i].delay, milliseconds(40)) << i;
    EXPECT_LE(seen[i].remaining, milliseconds(200)) << i;
    if (i > 0) {
      EXPECT_LT(seen[i].remaining, seen[i - 1].remaining) << i;
    }
    paused += seen[i].delay;
  }
  EXPECT_LT(paused, milliseconds(200));
  EXPECT_EQ(server.requests(), static_cast<int>(seen.size()) + 1);
}

TEST(Retry, CanBeLimitedOrSwitchedOff) {
  FakeServer server([](const std::string&, int) { return Action::close(); });
  std::vector<RetryEvent> seen;
  ClientOptions limited = retrying(&seen);
  limited.retry.max_attempts = 3;
  auto r = Client(*parse_url(server.url()), limited).get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionClosed);
  EXPECT_EQ(server.requests(), 3);
  ClientOptions off = retrying(&seen);
  off.retry.enabled = false;
  r = Client(*parse_url(server.url()), off).get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(server.requests(), 4);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(Retry, ATimeoutIsFinal) {
  FakeServer server([](const std::string&, int) { return Action::hang(); });
  std::vector<RetryEvent> seen;
  Client client(*parse_url(server.url()), retrying(&seen, milliseconds(200)));
  auto r = client.get("/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_TRUE(seen.empty());
  server.drop_held();
}

// --- watch ------------------------------------------------------------------------------------

std::string sse_head() { return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"; }

TEST(WatchLiveness, HeartbeatsKeepAQuietStreamAlive) {
  // The next event comes long after the idle limit; the agent's heartbeats fill the silence.
  FakeServer server([](const std::string&, int) {
    Action a = Action::hang(sse_head() + "retry: 50\n\ndata: 1\n\n");
    for (int i = 0; i < 6; ++i) a = std::move(a).then(milliseconds(100), ": heartbeat\n\n");
    return std::move(a).then(milliseconds(100), "data: 2\n\n");
  });
  Client client(*parse_url(server.url()));
  WatchOptions wo;
  wo.idle_timeout = milliseconds(400);  // < 700 ms from event 1 to event 2
  std::vector<std::string> got;
  auto r = client.watch(
      [&](const SseEvent& e) {
        got.push_back(e.data);
        return got.size() < 2;
      },
      {}, wo);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2"}));
  server.drop_held();
}

TEST(WatchReconnect, AStreamThatEndsIsReopened) {
  FakeServer server([](const std::string&, int index) {
    if (index == 1) return Action::reply_and_close(sse_head() + "retry: 20\n\ndata: 1\n\n");
    return Action::hang(sse_head() + "data: 2\n\n");
  });
  Client client(*parse_url(server.url()));
  WatchOptions wo;
  wo.reconnect = true;
  std::vector<std::pair<boost::system::error_code, milliseconds>> breaks;
  wo.on_disconnect = [&](const Error& e, milliseconds delay) {
    breaks.emplace_back(e.code, delay);
  };
  std::vector<std::string> got;
  auto r = client.watch(
      [&](const SseEvent& e) {
        got.push_back(e.data);
        return got.size() < 2;
      },
      {}, wo);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2"}));
  ASSERT_EQ(breaks.size(), 1u);
  EXPECT_EQ(breaks[0].first, ErrorCode::kConnectionClosed);
  // The server's retry: (20 ms) plus at most a quarter of jitter.
  EXPECT_GE(breaks[0].second, milliseconds(20));
  EXPECT_LE(breaks[0].second, milliseconds(25));
  EXPECT_EQ(server.connections(), 2);
  server.drop_held();
}

TEST(WatchReconnect, ABrokenStreamIsNotReconnected) {
  // The first chunk is fine; a later one carries an event beyond the parser's 1 MiB limit. A new
  // connection would not cure that: the watch ends with kProtocol (it used to reconnect).
  FakeServer server([](const std::string&, int index) {
    if (index == 1) {
      return Action::hang(sse_head() + "data: 1\n\n")
          .then(milliseconds(50), "data: " + std::string(1100 * 1024, 'x') + "\n\n");
    }
    return Action::hang(sse_head() + "data: 2\n\n");
  });
  Client client(*parse_url(server.url()));
  WatchOptions wo;
  wo.reconnect = true;
  wo.reconnect_delay = milliseconds(1);
  int disconnects = 0;
  std::stop_source stop;  // bounds the test should the watch reconnect after all
  wo.on_disconnect = [&](const Error&, milliseconds) {
    if (++disconnects == 3) stop.request_stop();
  };
  int events = 0;
  auto r = client.watch([&](const SseEvent&) { return ++events < 2; }, stop.get_token(), wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol) << r.error().message();
  EXPECT_NE(r.error().detail.find("event larger than"), std::string::npos) << r.error().detail;
  EXPECT_EQ(events, 1);
  EXPECT_EQ(disconnects, 0);
  EXPECT_EQ(server.requests(), 1);
  server.drop_held();
}

TEST(WatchReconnect, TheCallbacksErrorEndsTheWatch) {
  FakeServer server([](const std::string&, int) {
    return Action::hang(sse_head() + "data: 1\n\n").then(milliseconds(20), "data: 2\n\n");
  });
  Client client(*parse_url(server.url()));
  WatchOptions wo;
  wo.reconnect = true;
  wo.reconnect_delay = milliseconds(1);
  int disconnects = 0;
  std::stop_source stop;  // bounds the test should the watch reconnect after all
  wo.on_disconnect = [&](const Error&, milliseconds) {
    if (++disconnects == 3) stop.request_stop();
  };
  int events = 0;
  auto r = client.watch(
      [&](const SseEvent& e) -> Result<bool> {
        if (++events == 2) return Error{ErrorCode::kUnparsableBody, "event " + e.data};
        return true;
      },
      stop.get_token(), wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnparsableBody);
  EXPECT_EQ(r.error().detail, "event 2");
  EXPECT_EQ(disconnects, 0);
  EXPECT_EQ(server.requests(), 1);
  server.drop_held();
}

TEST(WatchReconnect, TheServersRetryIsCapped) {
  FakeServer server([](const std::string&, int index) {
    if (index == 1) return Action::reply_and_close(sse_head() + "retry: 600000\n\ndata: 1\n\n");
    return Action::hang(sse_head() + "data: 2\n\n");
  });
  Client client(*parse_url(server.url()));
  WatchOptions wo;
  wo.reconnect = true;
  wo.max_reconnect_delay = milliseconds(30);
  milliseconds delay{-1};
  wo.on_disconnect = [&](const Error&, milliseconds d) { delay = d; };
  int events = 0;
  auto r = client.watch([&](const SseEvent&) { return ++events < 2; }, {}, wo);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(delay, milliseconds(30));
  server.drop_held();
}

TEST(WatchReconnect, SurvivesAnAgentRestartOnAUnixSocket) {
  // The agent goes away (socket file removed), is refused for a while, then a new one answers.
  const std::string path = temp_socket_path("watch-restart");
  auto first = std::make_unique<FakeServer>(
      [](const std::string&, int) {
        return Action::reply_and_close(sse_head() + "retry: 10\n\ndata: old\n\n");
      },
      path);
  std::unique_ptr<FakeServer> second;
  Client client(*parse_url("unix://" + path));
  WatchOptions wo;
  wo.reconnect = true;
  std::vector<std::pair<boost::system::error_code, milliseconds>> breaks;
  wo.on_disconnect = [&](const Error& e, milliseconds delay) {
    breaks.emplace_back(e.code, delay);
    if (breaks.size() == 1) first.reset();  // the old agent is gone
    if (breaks.size() == 3) {
      second = std::make_unique<FakeServer>(
          [](const std::string&, int) { return Action::hang(sse_head() + "data: new\n\n"); }, path);
    }
  };
  std::vector<std::string> got;
  auto r = client.watch(
      [&](const SseEvent& e) {
        got.push_back(e.data);
        return got.size() < 2;
      },
      {}, wo);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(got, (std::vector<std::string>{"old", "new"}));
  ASSERT_EQ(breaks.size(), 3u);
  EXPECT_EQ(breaks[0].first, ErrorCode::kConnectionClosed);
  EXPECT_EQ(breaks[1].first, ErrorCode::kConnectionRefused);
  EXPECT_EQ(breaks[2].first, ErrorCode::kConnectionRefused);
  // Failed reconnections back off: 10 ms, then 20, then 40 (each plus <= 25% jitter).
  EXPECT_LT(breaks[0].second, breaks[1].second);
  EXPECT_LT(breaks[1].second, breaks[2].second);
  second->drop_held();
}

TEST(WatchReconnect, StopEndsTheWaitForTheNextConnection) {
  FakeServer server(
      [](const std::string&, int) { return Action::reply_and_close(sse_head() + "data: 1\n\n"); });
  Client client(*parse_url(server.url()));
  std::stop_source stop;
  WatchOptions wo;
  wo.reconnect = true;
  wo.reconnect_delay = milliseconds(600000);  // would wait ten minutes
  wo.max_reconnect_delay = milliseconds(600000);
  wo.on_disconnect = [&](const Error&, milliseconds) { stop.request_stop(); };
  auto r = client.watch([](const SseEvent&) { return true; }, stop.get_token(), wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(server.connections(), 1);
}

TEST(WatchReconnect, TheFirstConnectionIsNotRetriedForever) {
  FakeServer server([](const std::string&, int) { return ok(); }, {}, FakeServer::Listen::kLater);
  std::vector<RetryEvent> seen;
  Client client(*parse_url(server.url()), retrying(&seen, milliseconds(100)));
  WatchOptions wo;
  wo.reconnect = true;
  int breaks = 0;
  wo.on_disconnect = [&](const Error&, milliseconds) { ++breaks; };
  auto r = client.watch([](const SseEvent&) { return true; }, {}, wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kConnectionRefused) << r.error().message();
  EXPECT_FALSE(seen.empty());  // retried within the timeout, like a GET
  EXPECT_EQ(breaks, 0);
}

TEST(WatchReconnect, ANotReadyAgentIsWaitedForButOtherStatusesEndTheWatch) {
  FakeServer server([](const std::string&, int index) {
    if (index == 1) return Action::reply_and_close(sse_head() + "retry: 1\n\ndata: 1\n\n");
    if (index == 2) return Action::reply(http_response(503, "text/plain", "no sample yet\n"));
    return Action::reply(http_response(404, "text/plain", "not found\n"));
  });
  Client client(*parse_url(server.url()));
  WatchOptions wo;
  wo.reconnect = true;
  std::vector<boost::system::error_code> breaks;
  wo.on_disconnect = [&](const Error& e, milliseconds) { breaks.push_back(e.code); };
  auto r = client.watch([](const SseEvent&) { return true; }, {}, wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "bad status 404: GET /v1/node/watch: not found");
  EXPECT_EQ(breaks, (std::vector<boost::system::error_code>{ErrorCode::kConnectionClosed,
                                                            ErrorCode::kBadStatus}));
}

}  // namespace
}  // namespace nodeagent::client
