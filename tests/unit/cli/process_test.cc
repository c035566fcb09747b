#include "cli/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <future>

namespace nodeagent::cli {
namespace {

TEST(Hostname, IsTheKernelsName) {
  char buf[256] = {};
  ASSERT_EQ(gethostname(buf, sizeof buf - 1), 0);
  EXPECT_EQ(hostname(), buf);
}

// One test per process state: blocking is per thread and inherited, so both cases share it.
TEST(StopSignalWaiter, CallsOnStopOnceForASignalAndNeverWhenDestroyedQuietly) {
  block_stop_signals();
  {
    bool called = false;
    {
      StopSignalWaiter quiet([&called](std::string_view) { called = true; });
    }
    EXPECT_FALSE(called);
  }
  std::promise<std::string> stopped;
  auto result = stopped.get_future();
  StopSignalWaiter waiter(
      [&stopped](std::string_view signal) { stopped.set_value(std::string(signal)); });
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);  // blocked everywhere: only sigwait takes it
  // A bound on how long the test may hang if the waiter is broken, not a speed check.
  ASSERT_EQ(result.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(result.get(), "SIGTERM");
}

TEST(BlockStopSignals, IgnoresSigpipe) {
  block_stop_signals();
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
}

}  // namespace
}  // namespace nodeagent::cli
