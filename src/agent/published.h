#pragma once
// What the request path serves: one immutable bundle per sample, rendered once by the sampler
// thread and swapped in atomically. Handlers take a reference-counted pointer and never block.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "nodeinfo/snapshot.h"

namespace nodeagent::agent {

struct Published {
  std::shared_ptr<const nodeinfo::Snapshot> snapshot;
  std::chrono::steady_clock::time_point sampled_at;
  bool ok = false;          // the seed line's sources (uptime, loadavg) were read
  std::string unavailable;  // one-line reason served with 503 when !ok
  std::string text;         // GET /          (text/plain)
  std::string json;         // GET /v1/node   (application/json)
  std::string metrics;      // GET /metrics   (node metrics + the agent's own)
};

// Thread-safety: publish() from the sampler thread, current() from any thread.
class Board {
 public:
  void publish(std::shared_ptr<const Published> next) {
    current_.store(std::move(next), std::memory_order_release);
  }
  std::shared_ptr<const Published> current() const {
    return current_.load(std::memory_order_acquire);
  }

 private:
  std::atomic<std::shared_ptr<const Published>> current_;
};

}  // namespace nodeagent::agent
