#pragma once
// The one writer: a thread that samples the host every interval, renders every representation
// once, and publishes the bundle (Board) and the stream event (Feed). Requests never wait on it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/published.h"
#include "http/feed.h"
#include "nodeinfo/sampler.h"

namespace nodeagent::agent {

// Renders the agent's own metrics; called on the sampling thread after each sample.
using SelfMetrics = std::function<std::string(const nodeinfo::Snapshot&, double sample_seconds)>;

// Builds the bundle for one snapshot: pure, so tests check it without threads.
std::shared_ptr<const Published> publish_snapshot(nodeinfo::Snapshot snapshot,
                                                  std::chrono::steady_clock::time_point now,
                                                  const std::string& self_metrics);

// Thread-safety: start() and stop() from one controlling thread.
class SamplingLoop {
 public:
  SamplingLoop(nodeinfo::Sampler sampler, std::chrono::milliseconds interval, Board& board,
               std::shared_ptr<http::Feed> feed, SelfMetrics self_metrics);
  ~SamplingLoop();
  SamplingLoop(const SamplingLoop&) = delete;
  SamplingLoop& operator=(const SamplingLoop&) = delete;

  void start();
  void stop();  // wakes and joins the thread

 private:
  void run();
  void sample_once();

  nodeinfo::Sampler sampler_;
  std::chrono::milliseconds interval_;
  Board& board_;
  std::shared_ptr<http::Feed> feed_;
  SelfMetrics self_metrics_;
  std::vector<std::string> last_errors_;
  bool ever_ok_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nodeagent::agent
