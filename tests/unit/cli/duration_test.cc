#include "cli/duration.h"

#include <gtest/gtest.h>

namespace nodeagent::cli {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ReadsGoSyntax) {
  EXPECT_EQ(parse_duration("1s"), milliseconds(1000));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("1m30s"), milliseconds(90000));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7200000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
  EXPECT_EQ(parse_duration("0.0004s"), milliseconds(0));  // rounded to whole milliseconds
}

TEST(Duration, RejectsBareNumbersUnknownUnitsAndExponents) {
  for (const char* bad : {"", "5", "0", "1.5", "s", "1d", "1S", "-1s", "1s ", " 1s", "1s2", "inf",
                          "nans", "1e3s", "1e300h", "1ns", "99999999999999999999h"}) {
    EXPECT_FALSE(parse_duration(bad)) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace nodeagent::cli
