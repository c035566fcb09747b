#include "agent/access.h"

#include <gtest/gtest.h>

namespace nodeagent::agent {
namespace {

namespace ip = boost::asio::ip;

TEST(AccessList, EmptyAllowsEveryone) {
  AccessList list;
  EXPECT_TRUE(list.allows(ip::make_address("203.0.113.9")));
  EXPECT_TRUE(list.allows(ip::make_address("::1")));
}

TEST(AccessList, MatchesNetworksAndSingleHosts) {
  AccessList list;
  ASSERT_TRUE(list.add("10.244.0.0/16"));
  ASSERT_TRUE(list.add("192.168.1.7"));
  ASSERT_TRUE(list.add("fd00::/8"));
  EXPECT_TRUE(list.allows(ip::make_address("10.244.3.4")));
  EXPECT_FALSE(list.allows(ip::make_address("10.245.0.1")));
  EXPECT_TRUE(list.allows(ip::make_address("192.168.1.7")));
  EXPECT_FALSE(list.allows(ip::make_address("192.168.1.8")));
  EXPECT_TRUE(list.allows(ip::make_address("fd12::1")));
  EXPECT_FALSE(list.allows(ip::make_address("fe80::1")));
  EXPECT_EQ(list.rules(),
            (std::vector<std::string>{"10.244.0.0/16", "192.168.1.7/32", "fd00::/8"}));
}

TEST(AccessList, MappedIpv4ClientsMatchIpv4Rules) {
  AccessList list;
  ASSERT_TRUE(list.add("127.0.0.0/8"));
  EXPECT_TRUE(list.allows(ip::make_address("::ffff:127.0.0.1")));
  EXPECT_FALSE(list.allows(ip::make_address("::ffff:10.0.0.1")));
}

TEST(AccessList, ZeroPrefixAllowsAllOfAFamily) {
  AccessList list;
  ASSERT_TRUE(list.add("0.0.0.0/0"));
  EXPECT_TRUE(list.allows(ip::make_address("8.8.8.8")));
  EXPECT_FALSE(list.allows(ip::make_address("2001:db8::1")));
}

TEST(AccessList, HostBitsAreCanonicalised) {
  AccessList list;
  ASSERT_TRUE(list.add("10.1.2.3/8"));
  EXPECT_EQ(list.rules().front(), "10.0.0.0/8");
  EXPECT_TRUE(list.allows(ip::make_address("10.9.9.9")));
}

TEST(AccessList, RemembersRulesItMaskedForAWarning) {
  AccessList list;
  ASSERT_TRUE(list.add("127.0.0.5/8"));
  ASSERT_TRUE(list.add("10.0.0.0/8"));   // exact: no note
  ASSERT_TRUE(list.add("192.168.1.7"));  // a single host (/32): no note
  ASSERT_TRUE(list.add("fd00::1/8"));
  ASSERT_EQ(list.masked().size(), 2u);
  EXPECT_EQ(list.masked()[0].given, "127.0.0.5/8");
  EXPECT_EQ(list.masked()[0].effective, "127.0.0.0/8");
  EXPECT_EQ(list.masked()[1].given, "fd00::1/8");
  EXPECT_EQ(list.masked()[1].effective, "fd00::/8");
}

TEST(AccessList, RejectsGarbageWithAReason) {
  AccessList list;
  for (std::string_view bad : {"10.0.0.0/33", "banana", "fd00::/129", "", "10.0.0.0/8/8"}) {
    auto added = list.add(bad);
    ASSERT_FALSE(added) << bad;
    EXPECT_EQ(added.error().code, Errc::kMalformed) << bad;
    EXPECT_NE(added.error().detail.find("is not an IPv4 or IPv6 network like"), std::string::npos)
        << added.error().detail;
  }
  EXPECT_EQ(list.add("banana").error().detail,
            "\"banana\" is not an IPv4 or IPv6 network like 10.0.0.0/8");
  EXPECT_EQ(list.add("fd00::/129").error().detail,
            "\"fd00::/129\" is not an IPv4 or IPv6 network like fd00::/8");
  EXPECT_EQ(list.add("banana").error().message(),
            "malformed: \"banana\" is not an IPv4 or IPv6 network like 10.0.0.0/8");
  EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace nodeagent::agent
