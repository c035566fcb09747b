#include "http/log_limiter.h"

#include <gtest/gtest.h>

namespace nodeagent::http {
namespace {

using namespace std::chrono_literals;

TEST(LogLimiter, FirstEventLogsThenOneLinePerIntervalWithTheCount) {
  LogLimiter limiter(10s);
  const auto t0 = LogLimiter::Clock::time_point{} + 1h;
  EXPECT_EQ(limiter.count(t0), 1u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.count(t0 + 1ms * i), 0u);
  EXPECT_EQ(limiter.count(t0 + 10s), 1001u) << "the swallowed events are reported, not lost";
  EXPECT_EQ(limiter.count(t0 + 15s), 0u);
  EXPECT_EQ(limiter.count(t0 + 20s), 2u);
  EXPECT_EQ(limiter.count(t0 + 1h), 1u);
}

}  // namespace
}  // namespace nodeagent::http
