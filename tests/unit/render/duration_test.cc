#include "render/duration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace nodeagent::render {
namespace {

struct Case {
  double seconds;
  const char* expected;
};

class GoDuration : public testing::TestWithParam<Case> {};

TEST_P(GoDuration, MatchesGoDurationStringTruncatedToSeconds) {
  EXPECT_EQ(format_go_duration(GetParam().seconds), GetParam().expected) << GetParam().seconds;
}

INSTANTIATE_TEST_SUITE_P(
    Table, GoDuration,
    testing::Values(Case{0, "0s"}, Case{0.99, "0s"}, Case{1, "1s"}, Case{59, "59s"},
                    Case{59.999, "59s"}, Case{60, "1m0s"}, Case{61.5, "1m1s"}, Case{2230, "37m10s"},
                    Case{3599, "59m59s"}, Case{3599.99, "59m59s"}, Case{3600, "1h0m0s"},
                    Case{3601, "1h0m1s"}, Case{3660, "1h1m0s"}, Case{21490.37, "5h58m10s"},
                    Case{21560, "5h59m20s"}, Case{86400, "24h0m0s"}, Case{93784.98, "26h3m4s"},
                    Case{31536000, "8760h0m0s"}, Case{-1, "0s"}, Case{-0.0, "0s"},
                    Case{-86400, "0s"}, Case{std::nan(""), "0s"},
                    Case{-std::numeric_limits<double>::infinity(), "0s"},
                    // Beyond Go's int64-nanosecond Duration: clamped to its maximum.
                    Case{std::numeric_limits<double>::infinity(), "2562047h47m16s"},
                    Case{1e300, "2562047h47m16s"}));

}  // namespace
}  // namespace nodeagent::render
