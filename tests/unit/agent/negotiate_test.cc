#include "agent/negotiate.h"

#include <gtest/gtest.h>

namespace nodeagent::agent {
namespace {

struct Case {
  const char* accept;
  bool json;
};

class Negotiate : public testing::TestWithParam<Case> {};

TEST_P(Negotiate, PicksJsonOnlyWhenRankedAboveText) {
  EXPECT_EQ(prefers_json(GetParam().accept), GetParam().json) << GetParam().accept;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Negotiate,
    testing::Values(Case{"", false}, Case{"*/*", false}, Case{"text/plain", false},
                    Case{"application/json", true}, Case{"Application/JSON", true},
                    Case{"application/*", true}, Case{"application/json, text/plain", false},
                    Case{"application/json, text/plain;q=0.9", true},
                    Case{"text/plain;q=0.5, application/json", true},
                    Case{"application/json;q=0.5, text/plain", false},
                    Case{"application/json;q=0.5, */*;q=0.1", true},
                    Case{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
                    Case{"application/json;q=0", false}, Case{"application/json;q=banana", false},
                    Case{"application/json; charset=utf-8", true}, Case{",,,;;;", false}));

}  // namespace
}  // namespace nodeagent::agent
