#include "log/log.h"

#include <gtest/gtest.h>

namespace nodeagent::log {
namespace {

TEST(LogFormat, PlainValuesAreBare) {
  std::string line = format(Level::kInfo, "listening", {{"addr", "0.0.0.0:80"}, {"n", 3}});
  EXPECT_NE(line.find(" level=info msg=listening addr=0.0.0.0:80 n=3"), std::string::npos) << line;
  EXPECT_EQ(line.rfind("ts=", 0), 0u);
}

TEST(LogFormat, ValuesWithSpacesQuotesAndNewlinesAreQuotedAndEscaped) {
  std::string line = format(Level::kError, "read failed", {{"why", "a \"b\"\nc"}, {"empty", ""}});
  EXPECT_NE(line.find(R"(msg="read failed" why="a \"b\"\nc" empty="")"), std::string::npos) << line;
}

TEST(LogLevel, ParsesKnownNamesOnly) {
  EXPECT_EQ(parse_level("debug"), Level::kDebug);
  EXPECT_EQ(parse_level("error"), Level::kError);
  EXPECT_FALSE(parse_level("verbose").has_value());
  EXPECT_FALSE(parse_level("").has_value());
}

TEST(LogLevel, FiltersBelowThreshold) {
  set_level(Level::kWarn);
  EXPECT_FALSE(enabled(Level::kInfo));
  EXPECT_TRUE(enabled(Level::kError));
  set_level(Level::kInfo);
  EXPECT_TRUE(enabled(Level::kInfo));
}

}  // namespace
}  // namespace nodeagent::log
