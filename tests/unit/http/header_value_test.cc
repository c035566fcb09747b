#include "http/header_value.h"

#include <gtest/gtest.h>

namespace nodeagent::http {
namespace {

TEST(Iequals, IgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("host", "hosts"));
  EXPECT_FALSE(iequals("\xC3\x84", "\xC3\xA4"));  // Ä and ä: not ASCII, compared as bytes
}

TEST(TrimOws, DropsSpacesAndTabsAtBothEnds) {
  EXPECT_EQ(trim_ows(" \ttext/plain\t "), "text/plain");
  EXPECT_EQ(trim_ows("a b"), "a b");
  EXPECT_EQ(trim_ows(" \t "), "");
}

struct Case {
  const char* accept;
  const char* type;
  int quality;
};

class AcceptQuality : public testing::TestWithParam<Case> {};

TEST_P(AcceptQuality, MostSpecificMatchingRangeDecides) {
  EXPECT_EQ(accept_quality(GetParam().accept, GetParam().type), GetParam().quality)
      << "Accept: " << GetParam().accept << " / " << GetParam().type;
}

INSTANTIATE_TEST_SUITE_P(
    Table, AcceptQuality,
    testing::Values(Case{"", "text/plain", 0}, Case{"*/*", "application/json", 1000},
                    Case{"application/json", "application/json", 1000},
                    Case{"Application/JSON", "application/json", 1000},
                    Case{"application/json", "text/plain", 0},
                    Case{"application/*", "application/json", 1000},
                    Case{"text/*", "application/json", 0}, Case{"text/*;q=0.3", "text/plain", 300},
                    Case{"text/plain;q=0.5, text/*;q=0.9, */*;q=0.1", "text/plain", 500},
                    Case{"text/*;q=0.9, text/plain;q=0.5", "text/plain", 500},
                    Case{"*/*;q=0.8, text/html", "text/plain", 800},
                    Case{"application/json; charset=utf-8", "application/json", 1000},
                    Case{"application/json; Q=0.25", "application/json", 250},
                    Case{"application/json;q=0", "application/json", 0},
                    Case{"application/json;q=banana", "application/json", 0},
                    Case{"application/json;q=0.5x", "application/json", 0},
                    Case{"application/json;q=2", "application/json", 0},
                    Case{"application/json;q=nan", "application/json", 0},
                    Case{"application/json;q=inf", "application/json", 0},
                    Case{"application/json;q=1e-1", "application/json", 0},
                    Case{"application/json;q=0.9995", "application/json", 0},  // 3 decimals at most
                    Case{"application/json;q=0.001", "application/json", 1},
                    Case{"application/json;q=0.", "application/json", 0},
                    Case{"application/json;q=1.", "application/json", 1000},
                    Case{"application/json;q=1.000", "application/json", 1000},
                    Case{"application/json;q=1.001", "application/json", 0},
                    Case{"application/json;q=-0", "application/json", 0},
                    Case{",,,;;;", "application/json", 0}, Case{"*/*;q=", "text/plain", 0},
                    Case{"appl/*", "application/json", 0}, Case{"*", "text/plain", 0},
                    // Accept-Encoding (RFC 9110 section 12.5.3): codings are tokens, "*" is any.
                    Case{"gzip", "gzip", 1000}, Case{"GZIP;q=0.5", "gzip", 500},
                    Case{"br, *;q=0.1", "gzip", 100}, Case{"*;q=0.1, gzip;q=0", "gzip", 0},
                    Case{"x-gzip", "gzip", 0}));

}  // namespace
}  // namespace nodeagent::http
