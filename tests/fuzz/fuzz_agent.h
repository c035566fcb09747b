#pragma once
// What the two HTTP fuzz targets share: the agent's real Router over a fixed published sample,
// and the oracle for what comes back.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "agent/routes.h"
#include "http/feed.h"
#include "log/log.h"

namespace nodeagent::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what.c_str());
  std::abort();
}

inline std::shared_ptr<const agent::Published> fixed_sample() {
  auto state = std::make_shared<agent::Published>();
  state->ok = true;
  state->sampled_at = std::chrono::steady_clock::now();
  state->text = "fuzz-node uptime: 1s, load average: 0.00, 0.00, 0.00, active/total threads: 1/1\n";
  state->json = "{\"node\":\"fuzz-node\"}\n";
  state->metrics = "# TYPE node_load1 gauge\nnode_load1 0\n";
  return state;
}

inline std::shared_ptr<http::Feed> closed_feed() {
  auto feed = std::make_shared<http::Feed>();
  feed->close();  // streams end at once, so /v1/node/watch answers and closes
  return feed;
}

// The agent's Router, every route enabled, with a sample that never goes stale.
struct AgentUnderTest {
  AgentUnderTest() {
    log::set_level(log::Level::kError);
    board.publish(fixed_sample());
  }

  agent::Board board;
  agent::AccessList access;
  agent::RequestCounters counters;
  agent::Router router{
      board, access,
      agent::RouteContext{closed_feed(), std::make_shared<const std::string>("{\"uid\":0}\n"),
                          std::chrono::hours(24 * 365)},
      counters};
};

// Every byte must belong to a complete, well-framed response, and none is a 500 (a handler
// threw) or an interim 1xx; aborts otherwise. In fuzz_oracle.cc, which is built without
// coverage instrumentation: the oracle's own branches would only slow libFuzzer down.
void check_responses(std::string_view out);

}  // namespace nodeagent::fuzz
