#include "render/text.h"

#include <gtest/gtest.h>

#include "snapshot_fixture.h"

namespace nodeagent::render {
namespace {

using testing_util::empty_snapshot;
using testing_util::full_snapshot;
using testing_util::sample_host;

TEST(RenderText, SeedLineExactly) {
  auto r = render_text(full_snapshot());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r,
            "kind-worker uptime: 5h58m10s, load average: 1.62, 1.83, 2.25, active/total threads: "
            "2/3479\n");
}

TEST(RenderText, FromTheManyCpuFixture) {
  auto r = render_text(sample_host("server-64cpu-psi", "kind-worker"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r,
            "kind-worker uptime: 5h58m10s, load average: 1.62, 1.83, 2.25, active/total threads: "
            "2/3479\n");
}

TEST(RenderText, FromTheOtherFixtures) {
  EXPECT_EQ(*render_text(sample_host("vm-2cpu-psi", "vm")),
            "vm uptime: 18m1s, load average: 0.90, 0.59, 0.28, active/total threads: 1/91\n");
  EXPECT_EQ(*render_text(sample_host("tiny-1cpu-nopsi", "tiny")),
            "tiny uptime: 26h3m4s, load average: 0.00, 0.01, 0.05, active/total threads: 1/112\n");
}

TEST(RenderText, LoadKeepsTwoDecimals) {
  auto s = full_snapshot();
  s.load = nodeinfo::Load{0, 10, 123.4};
  s.uptime_seconds = 0.5;
  EXPECT_EQ(*render_text(s),
            "kind-worker uptime: 0s, load average: 0.00, 10.00, 123.40, active/total threads: "
            "2/3479\n");
}

TEST(RenderText, OnlyUptimeAndLoadavgAreNeeded) {
  auto s = full_snapshot();
  s.cpu_seconds.reset();
  s.memory = {};
  s.pressure = {};
  s.kernel_release.reset();
  EXPECT_TRUE(render_text(s));
}

TEST(RenderText, ErrorListsTheFailedSourcesOnOneLine) {
  auto r = render_text(empty_snapshot());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_EQ(r.error().detail,
            "node info unavailable: /host/proc/uptime: No such file or directory; "
            "/host/proc/loadavg: malformed: bad load1 \"nan\"");
  EXPECT_EQ(r.error().message(), "unavailable: " + r.error().detail);
}

TEST(RenderText, ErrorFromFixturesNamesTheFiles) {
  for (const char* host : {"truncated", "garbage"}) {
    auto r = render_text(sample_host(host, "n"));
    ASSERT_FALSE(r) << host;
    EXPECT_NE(r.error().detail.find("/proc/uptime: malformed"), std::string::npos);
    EXPECT_NE(r.error().detail.find("/proc/loadavg: malformed"), std::string::npos);
    EXPECT_EQ(r.error().detail.find('\n'), std::string::npos);
  }
}

TEST(RenderText, ErrorWithoutRecordedReasons) {
  nodeinfo::Snapshot s;
  s.uptime_seconds = 1;  // loadavg missing, but nobody said why
  auto r = render_text(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kUnavailable);
  EXPECT_EQ(r.error().detail, "node info unavailable: uptime or loadavg missing");
}

TEST(RenderText, NewlinesInReasonsDoNotBreakTheLine) {
  nodeinfo::Snapshot s;
  s.errors = {"a\nb"};
  EXPECT_EQ(render_text(s).error().detail, "node info unavailable: a b");
}

}  // namespace
}  // namespace nodeagent::render
