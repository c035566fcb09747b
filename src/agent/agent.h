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
#include "nodeinfo/host_fs.h"

namespace nodeagent::agent {

// Thread-safety: create() and run() from the main thread; stop() from any thread.
class Agent {
 public:
  // Opens the roots and binds the sockets; on failure logs why and returns null.
  static std::unique_ptr<Agent> create(Config config);

  int run();    // samples and serves until stop(); returns the process exit status
  void stop();  // graceful: stop accepting, finish in-flight responses, close streams
  // stop() after --shutdown-delay, serving meanwhile with /readyz failing; stop() during the
  // delay skips the rest of it.
  void shutdown();
  std::chrono::milliseconds shutdown_delay() const { return config_.shutdown_delay; }

 private:
  Agent(Config config, nodeinfo::HostFs fs);
  std::string self_metrics(const nodeinfo::Snapshot& snapshot, double sample_seconds) const;

  Config config_;
  nodeinfo::HostFs fs_;
  double start_time_seconds_;
  Board board_;
  RequestCounters counters_;
  std::shared_ptr<http::Feed> feed_;
  std::shared_ptr<std::atomic<bool>> shutting_down_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<SamplingLoop> sampling_;
};

}  // namespace nodeagent::agent
