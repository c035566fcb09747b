#include "agent/self_report.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include "agent/self_proc.h"

namespace nodeagent::agent {
namespace {

TEST(CompareInodes, UnknownUnlessBothAreKnown) {
  EXPECT_EQ(compare_inodes(4026531840u, 4026531840u), Sharing::kShared);
  EXPECT_EQ(compare_inodes(4026531840u, 4026532200u), Sharing::kSeparate);
  const Error unread{Errc::kUnavailable, "unread"};
  EXPECT_EQ(compare_inodes(unread, 4026531840u), Sharing::kUnknown);
  EXPECT_EQ(compare_inodes(4026531840u, unread), Sharing::kUnknown);
  EXPECT_EQ(sharing_name(Sharing::kUnknown), "unknown");
}

TEST(CompareHostNamespaces, AFixtureTreeWithoutPidOneIsUnknown) {
  auto procfs = nodeinfo::HostRoot::open(NODEAGENT_FIXTURES "/hosts");
  ASSERT_TRUE(procfs) << procfs.error().message();
  HostNamespaces ns = compare_host_namespaces(*procfs, open_self_proc());
  for (Sharing s : ns.sharing) EXPECT_EQ(s, Sharing::kUnknown);
}

TEST(CompareHostNamespaces, TheRealProcfsIsConclusive) {
  auto procfs = nodeinfo::HostRoot::open("/proc");
  ASSERT_TRUE(procfs) << procfs.error().message();
  HostNamespaces ns = compare_host_namespaces(*procfs, open_self_proc());
  // The PID namespace is decided from /proc/self even when PID 1 is out of reach: this test
  // reads its own procfs, so it shares that procfs's PID namespace.
  EXPECT_EQ(ns.sharing[1], Sharing::kShared);
  struct stat st {};
  if (::stat("/proc/1/ns/net", &st) != 0) GTEST_SKIP() << "PID 1's namespaces are unreadable here";
  for (Sharing s : ns.sharing) EXPECT_NE(s, Sharing::kUnknown);
}

TEST(NeedsLowPort, OnlyTcpPortsBelow1024) {
  auto parse = [](std::string_view text) { return http::parse_listen_address(text).value(); };
  EXPECT_TRUE(needs_low_port({parse(":80")}));
  EXPECT_TRUE(needs_low_port({parse("127.0.0.1:0"), parse("[::1]:1023")}));
  EXPECT_FALSE(needs_low_port({parse(":1024")}));
  EXPECT_FALSE(needs_low_port({parse("127.0.0.1:0")}));
  EXPECT_FALSE(needs_low_port({parse("unix:///run/agent.sock")}));
}

TEST(RenderSelfReport, EveryFieldIsThere) {
  SelfReport r;
  r.version = "1.2.3";
  r.identity.uid = r.identity.euid = 65534;
  r.identity.gid = r.identity.egid = 65534;
  r.started_as.euid = 0;
  r.switched_user = true;
  r.capabilities.bounding = std::uint64_t{1} << CAP_NET_RAW;
  r.bounding_cleared = false;
  r.no_new_privs = true;
  r.namespaces.sharing = {Sharing::kShared, Sharing::kSeparate, Sharing::kSeparate,
                          Sharing::kUnknown};
  r.procfs = "/host/proc";
  r.sysfs = "/host/sys";
  r.listen = {"127.0.0.1:11559", "unix:///run/node-agent/agent.sock"};
  r.allow_cidr = {"10.0.0.0/8"};
  r.interval_seconds = 0.5;
  r.max_connections = 100;

  const std::string body = render_self_report(r);
  ASSERT_EQ(body.back(), '\n');
  boost::json::object o = boost::json::parse(body).as_object();
  EXPECT_EQ(o["version"], "1.2.3");
  EXPECT_EQ(o["uid"], 65534);
  EXPECT_EQ(o["gid"], 65534);
  EXPECT_EQ(o["groups"], boost::json::array{});
  EXPECT_EQ(o["started_as"].at("uid"), 0);
  EXPECT_EQ(o["switched_user"], true);
  EXPECT_EQ(o["no_new_privs"], true);
  auto& caps = o["capabilities"].as_object();
  EXPECT_EQ(caps["effective"], boost::json::array{});
  EXPECT_EQ(caps["permitted"], boost::json::array{});
  EXPECT_EQ(caps["inheritable"], boost::json::array{});
  EXPECT_EQ(caps["ambient"], boost::json::array{});
  EXPECT_EQ(caps["bounding"], boost::json::array{"NET_RAW"});
  auto& ns = o["host_namespaces"].as_object();
  EXPECT_EQ(ns["net"], "shared");
  EXPECT_EQ(ns["pid"], "separate");
  EXPECT_EQ(ns["ipc"], "separate");
  EXPECT_EQ(ns["uts"], "unknown");
  EXPECT_EQ(o["roots"].at("procfs"), "/host/proc");
  EXPECT_EQ(o["roots"].at("sysfs"), "/host/sys");
  EXPECT_EQ(o["listen"].as_array().size(), 2u);
  EXPECT_EQ(o["access"].at("allow_cidr"), boost::json::array{"10.0.0.0/8"});
  EXPECT_EQ(o["access"].at("default"), "deny");
  EXPECT_EQ(o["interval_seconds"], 0.5);
  EXPECT_EQ(o["max_connections"], 100);
}

TEST(RenderSelfReport, WholeSecondIntervalsAreIntegers) {
  SelfReport r;
  r.interval_seconds = 1;
  EXPECT_NE(render_self_report(r).find("\"interval_seconds\":1,"), std::string::npos);
}

TEST(RenderSelfReport, NoRulesMeansAllowAll) {
  boost::json::object o = boost::json::parse(render_self_report(SelfReport{})).as_object();
  EXPECT_EQ(o["access"].at("default"), "allow");
  EXPECT_EQ(o["access"].at("allow_cidr"), boost::json::array{});
}

TEST(MakeSelfReport, TakesConfigAndChange) {
  Config config;
  config.procfs = "/host/proc";
  config.interval = std::chrono::milliseconds(250);
  ASSERT_TRUE(config.access.add("192.168.0.0/16"));
  PrivilegeChange change;
  change.after.euid = 65534;
  change.before.euid = 0;
  change.no_new_privs = true;
  SelfReport r = make_self_report(config, change, HostNamespaces{}, {"127.0.0.1:1"});
  EXPECT_EQ(r.procfs, "/host/proc");
  EXPECT_EQ(r.interval_seconds, 0.25);
  EXPECT_EQ(r.allow_cidr, std::vector<std::string>{"192.168.0.0/16"});
  EXPECT_EQ(r.listen, std::vector<std::string>{"127.0.0.1:1"});
  EXPECT_EQ(r.identity.euid, 65534u);
  EXPECT_FALSE(r.version.empty());
}

}  // namespace
}  // namespace nodeagent::agent
