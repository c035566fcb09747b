#pragma once
// The assembled agent: host roots, sampler thread, routes and HTTP server, wired one way
// (readers -> snapshot -> render -> http).

#include <chrono>
#include <memory>
#include <optional>

#include "agent/config.h"
#include "agent/published.h"
#include "agent/routes.h"
#include "agent/sampling.h"
#include "http/feed.h"
#include "http/server.h"
#include "nodeagent/error.h"
#include "nodeinfo/host_fs.h"

namespace nodeagent::agent {

// Thread-safety: create() and run() from the main thread; stop() from any thread.
class Agent {
 public:
  // Opens the roots, binds the sockets and drops privileges. On failure it logs why (one error
  // line naming the step) and returns that step's Error.
  static Result<std::unique_ptr<Agent>> create(Config config);

  int run();    // samples and serves until stop(); returns the process exit status
  void stop();  // graceful: stop accepting, finish in-flight responses, close streams
  // stop() after --shutdown-delay, serving meanwhile with /readyz failing; stop() during the
  // delay skips the rest of it.
  void shutdown();
  std::chrono::milliseconds shutdown_delay() const { return config_.shutdown_delay; }

 private:
  Agent(Config config, nodeinfo::HostFs fs, Result<nodeinfo::HostRoot> self_proc);
  std::string self_metrics(const nodeinfo::Snapshot& snapshot, double sample_seconds) const;

  Config config_;
  nodeinfo::HostFs fs_;
  // The agent's own /proc/self (an Error when it could not be opened: its readings are omitted).
  Result<nodeinfo::HostRoot> self_proc_;
  double start_time_seconds_;
  Board board_;
  RequestCounters counters_;
  std::shared_ptr<http::Feed> feed_;
  std::shared_ptr<std::atomic<bool>> shutting_down_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<SamplingLoop> sampling_;
};

}  // namespace nodeagent::agent
