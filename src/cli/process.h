#pragma once
// What every program here does around main(): name the host and stop gracefully on SIGINT or
// SIGTERM, with no work done in signal context.

#include <pthread.h>

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace nodeagent::cli {

// gethostname(), or "unknown" when it fails.
std::string hostname();

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts afterwards,
// and ignores SIGPIPE (a peer that went away is an error code on the socket, not a death). Call
// it first thing in main, before any thread exists.
void block_stop_signals();

// While it lives, a thread waits for SIGINT or SIGTERM (blocked beforehand by
// block_stop_signals) and calls `on_stop` once with "SIGINT" or "SIGTERM". The destructor wakes
// and joins that thread without calling `on_stop`: destroy the waiter before what `on_stop`
// touches, e.g. by declaring it after.
class StopSignalWaiter {
 public:
  explicit StopSignalWaiter(std::function<void(std::string_view signal)> on_stop);
  ~StopSignalWaiter();
  StopSignalWaiter(const StopSignalWaiter&) = delete;
  StopSignalWaiter& operator=(const StopSignalWaiter&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace nodeagent::cli
