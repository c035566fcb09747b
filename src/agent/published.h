#pragma once
// What the request path serves: one immutable bundle per sample, rendered once by the sampler
// thread and swapped in atomically. Handlers take a reference-counted pointer and never wait on
// the sampler.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

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
//
// A mutex, not std::atomic<std::shared_ptr>: libstdc++ 12 implements that with its own spin lock
// in the control-block pointer and releases it with a relaxed store after load(), so a reader's
// read of the pointer is not ordered before the writer's next store (TSan reports the race).
// The mutex costs the same two atomic operations when uncontended and is held only to copy one
// shared_ptr.
class Board {
 public:
  void publish(std::shared_ptr<const Published> next) {
    std::shared_ptr<const Published> old;
    {
      std::lock_guard lock(mutex_);
      old = std::exchange(current_, std::move(next));
    }
    // `old` dies here, outside the lock: the last reference frees a whole bundle.
  }
  std::shared_ptr<const Published> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Published> current_;
};

}  // namespace nodeagent::agent
