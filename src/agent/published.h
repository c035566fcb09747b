#pragma once
// What the request path serves: one immutable bundle per sample, rendered once by the sampler
// thread and swapped in atomically. Handlers take a reference-counted pointer and never wait on
// the sampler.

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "http/gzip.h"
#include "nodeinfo/snapshot.h"

namespace nodeagent::agent {

// `metrics` gzip-compressed, made once per sample by the first request that accepts gzip
// (Prometheus does; most samples are never scraped, so compressing every sample would be waste)
// and shared by every later one.
class LazyGzip {
 public:
  // Null when compression failed: the identity body is served instead.
  const std::string* get(const std::string& body) const {
    std::call_once(once_, [&] {
      if (auto z = http::gzip(body)) compressed_ = std::move(*z);
    });
    return compressed_ ? &*compressed_ : nullptr;
  }

 private:
  mutable std::once_flag once_;
  mutable std::optional<std::string> compressed_;
};

struct Published {
  std::shared_ptr<const nodeinfo::Snapshot> snapshot;
  std::chrono::steady_clock::time_point sampled_at;
  bool ok = false;          // the seed line's sources (uptime, loadavg) were read
  std::string unavailable;  // one-line reason served with 503 when !ok
  std::string text;         // GET /          (text/plain)
  std::string json;         // GET /v1/node   (application/json)
  std::string metrics;      // GET /metrics   (node metrics + the agent's own)
  std::unique_ptr<LazyGzip> metrics_gzip = std::make_unique<LazyGzip>();

  const std::string* gzipped_metrics() const { return metrics_gzip->get(metrics); }
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

// Whether the sampling thread is inside a sample, and since when: /healthz fails when one sample
// has been running too long (a read stuck in the kernel), so the kubelet restarts the agent
// instead of probing a live process that no longer samples.
// Thread-safety: begin()/end() from the sampling thread, busy_since() from any thread.
class Heartbeat {
 public:
  void begin(std::chrono::steady_clock::time_point now) {
    busy_since_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  }
  void end() { busy_since_ns_.store(kIdle, std::memory_order_relaxed); }
  // When the sample in progress started; nullopt between samples.
  std::optional<std::chrono::steady_clock::time_point> busy_since() const {
    const auto ns = busy_since_ns_.load(std::memory_order_relaxed);
    if (ns == kIdle) return std::nullopt;
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns));
  }

 private:
  static constexpr std::chrono::steady_clock::rep kIdle =
      std::numeric_limits<std::chrono::steady_clock::rep>::min();
  std::atomic<std::chrono::steady_clock::rep> busy_since_ns_{kIdle};
};

}  // namespace nodeagent::agent
