#include "cli/process.h"

#include <unistd.h>

#include <csignal>

namespace nodeagent::cli {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

StopSignalWaiter::StopSignalWaiter(std::function<void(std::string_view)> on_stop)
    : thread_([this, on_stop = std::move(on_stop)] {
        sigset_t set = stop_signals();
        // Blocked here too, so the destructor's wake-up can never kill the process, even if the
        // caller forgot block_stop_signals().
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        int sig = 0;
        if (sigwait(&set, &sig) != 0) return;  // only EINVAL, for a bad set
        if (done_.load()) return;              // woken by the destructor, not by an operator
        on_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
      }) {}

StopSignalWaiter::~StopSignalWaiter() {
  done_.store(true);
  // Wakes the waiter if it still waits; a signal sent after it returned stays pending, unseen.
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
}

}  // namespace nodeagent::cli
