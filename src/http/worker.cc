#include <algorithm>

#include "http/internal.h"
#include "log/log.h"

namespace nodeagent::http::detail {
namespace {

// Sweep often enough that a timeout fires within about 1/8 of its length, but never busier
// than every 5 ms nor lazier than every 100 ms.
Clock::duration tick_for(const Shared& shared) {
  const Limits& limits = shared.limits;
  auto shortest =
      std::min<Clock::duration>({limits.read_timeout, limits.idle_timeout, limits.send_timeout,
                                 limits.drain_timeout, shared.sse_heartbeat});
  return std::clamp<Clock::duration>(shortest / 8, std::chrono::milliseconds(5),
                                     std::chrono::milliseconds(100));
}

// RFC 9110 IMF-fixdate, independent of the process locale.
std::size_t format_http_date(std::time_t t, char* out, std::size_t size) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  int n = std::snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                        tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
                        tm.tm_min, tm.tm_sec);
  return n > 0 ? std::min(static_cast<std::size_t>(n), size - 1) : 0;
}

}  // namespace

Worker::Worker(Shared& shared) : shared_(shared), tick_(tick_for(shared)) { update_clock(); }

Worker::~Worker() { destroying_ = true; }

void Worker::update_clock() {
  now_ = shared_.clock->steady_now();
  const std::time_t second = std::chrono::system_clock::to_time_t(shared_.clock->system_now());
  if (second != date_second_) {
    date_second_ = second;
    date_len_ = format_http_date(second, date_.data(), date_.size());
  }
}

void Worker::run() {
  update_clock();
  arm();
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      // Handlers catch their own errors; this is a bug, but one connection must not end the loop.
      log::error("http event loop error", {{"error", e.what()}});
    }
  }
}

void Worker::arm() {
  timer_.expires_after(tick_);
  timer_.async_wait([this](boost::system::error_code ec) { on_tick(ec); });
}

void Worker::on_tick(boost::system::error_code ec) {
  if (draining_ && sessions_.empty()) return;  // done: let the loop run out of work
  if (ec && ec != boost::asio::error::operation_aborted) {
    log::error("http sweep timer failed", {{"error", ec.message()}});
  }
  update_clock();
  // Sessions close here but are destroyed later by their pending handlers, so the list does not
  // change while it is walked.
  for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->on_tick(now_);
  if (draining_) {
    if (now_ >= drain_deadline_) {
      for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->force_close();
    }
    if (sessions_.empty()) return;
    if (now_ >= drain_deadline_ + std::chrono::seconds(1)) {
      // Handlers of force-closed sessions should have run long ago; do not hang shutdown.
      log::error("http drain did not finish, stopping event loop",
                 {{"sessions", static_cast<std::uint64_t>(sessions_.size())}});
      ioc_.stop();
      return;
    }
  }
  arm();
}

void Worker::add(Session* session) {
  session->index = sessions_.size();
  sessions_.push_back(session);
}

void Worker::remove(Session* session) {
  std::size_t i = session->index;
  if (i >= sessions_.size() || sessions_[i] != session) return;
  sessions_[i] = sessions_.back();
  sessions_[i]->index = i;
  sessions_.pop_back();
  if (draining_ && sessions_.empty() && !destroying_) timer_.cancel();
}

void Worker::begin_drain() {
  if (draining_) return;
  draining_ = true;
  update_clock();
  drain_deadline_ = now_ + shared_.limits.drain_timeout;
  for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->begin_drain();
  if (sessions_.empty()) timer_.cancel();
}

}  // namespace nodeagent::http::detail
