#include "http/feed.h"

#include <algorithm>

namespace nodeagent::http {

void Feed::publish(std::shared_ptr<const std::string> chunk) {
  if (!chunk) return;
  {
    std::lock_guard lock(mutex_);
    if (latest_.closed) return;
    latest_.data = std::move(chunk);
    ++latest_.sequence;
  }
  notify_all();
}

void Feed::close() {
  {
    std::lock_guard lock(mutex_);
    if (latest_.closed) return;
    latest_.closed = true;
  }
  notify_all();
}

bool Feed::closed() const {
  std::lock_guard lock(mutex_);
  return latest_.closed;
}

Feed::Chunk Feed::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

void Feed::subscribe(std::weak_ptr<Subscriber> subscriber) {
  std::lock_guard lock(mutex_);
  std::erase_if(subscribers_, [](const auto& w) { return w.expired(); });
  subscribers_.push_back(std::move(subscriber));
}

std::size_t Feed::subscriber_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(subscribers_.begin(), subscribers_.end(),
                                                [](const auto& w) { return !w.expired(); }));
}

void Feed::notify_all() {
  // Callbacks run without the lock so a subscriber may call latest() from them.
  std::vector<std::shared_ptr<Subscriber>> live;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [](const auto& w) { return w.expired(); });
    live.reserve(subscribers_.size());
    for (const auto& w : subscribers_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (const auto& s : live) s->on_feed_update();
}

}  // namespace nodeagent::http
