#pragma once
// Broadcast of Server-Sent Events chunks to every streaming session.
//
// Thread-safe: publish() and close() may be called from any thread (the sampler calls publish()
// once per interval). Only the latest chunk is kept: a session that is still writing when new
// chunks arrive skips to the newest one, so a slow client costs one shared chunk at most and never
// slows the publisher or other clients.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nodeagent::http {

class Feed {
 public:
  // Implemented by the server's sessions. on_feed_update() runs on the publishing thread with no
  // Feed lock held; it must only schedule work (it must not block).
  class Subscriber {
   public:
    virtual ~Subscriber() = default;
    virtual void on_feed_update() = 0;
  };

  struct Chunk {
    std::shared_ptr<const std::string> data;  // null before the first publish()
    std::uint64_t sequence = 0;               // 1 for the first chunk, +1 per publish()
    bool closed = false;
  };

  // A complete SSE chunk, e.g. "data: {...}\n\n". Ignored after close() or when null.
  void publish(std::shared_ptr<const std::string> chunk);
  // Ends every stream once its current write is done; later publish() calls are ignored.
  void close();

  bool closed() const;
  Chunk latest() const;
  // Used by the server; the feed keeps only a weak reference.
  void subscribe(std::weak_ptr<Subscriber> subscriber);
  std::size_t subscriber_count() const;  // live subscribers

 private:
  void notify_all();

  mutable std::mutex mutex_;
  Chunk latest_;
  std::vector<std::weak_ptr<Subscriber>> subscribers_;
};

}  // namespace nodeagent::http
