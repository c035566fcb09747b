#include "nodeinfo/sources/timex.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;

// A chrony-disciplined clock as adjtimex(2) reported it on a VM (microsecond mode).
Timex synced_us() {
  Timex t;
  t.state = 0;  // TIME_OK
  t.offset = -1500;
  t.freq = -1171456;  // -17.875 ppm
  t.maxerror = 8000;
  t.esterror = 250;
  t.status = 0x0001;  // STA_PLL
  t.constant = 7;
  t.tick = 10000;
  t.ppsfreq = 65536;
  t.jitter = 300;
  t.shift = 4;
  t.stabil = 131072;
  t.jitcnt = 1;
  t.calcnt = 2;
  t.errcnt = 3;
  t.stbcnt = 4;
  t.tai = 37;
  return t;
}

class TimexSourceTest : public testing::Test {
 protected:
  Snapshot sample(TimexReader read) {
    auto source = make_timex_source_with(std::move(read));
    return host_.sample(*source);
  }

  TempDir dir_;
  SourceHost host_{make_dirs(dir_)};

 private:
  static std::filesystem::path make_dirs(const TempDir& dir) {
    std::filesystem::create_directories(dir.path() / "proc");
    std::filesystem::create_directories(dir.path() / "sys");
    return dir.path();
  }
};

TEST_F(TimexSourceTest, MicrosecondMode) {
  Snapshot s = sample([] { return Result<Timex>(synced_us()); });
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.families.families().size(), 17u);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_offset_seconds"), -0.0015);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_frequency_adjustment_ratio"), 1 - 17.875e-6);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_maxerror_seconds"), 0.008);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_estimated_error_seconds"), 0.00025);
  EXPECT_EQ(value_of(s, "node_timex_status"), 1);
  EXPECT_EQ(value_of(s, "node_timex_loop_time_constant"), 7);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_tick_seconds"), 0.01);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_pps_frequency_hertz"), 1e-6);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_pps_jitter_seconds"), 0.0003);
  EXPECT_EQ(value_of(s, "node_timex_pps_shift_seconds"), 4);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_pps_stability_hertz"), 2e-6);
  EXPECT_EQ(value_of(s, "node_timex_pps_jitter_total"), 1);
  EXPECT_EQ(value_of(s, "node_timex_pps_calibration_total"), 2);
  EXPECT_EQ(value_of(s, "node_timex_pps_error_total"), 3);
  EXPECT_EQ(value_of(s, "node_timex_pps_stability_exceeded_total"), 4);
  EXPECT_EQ(value_of(s, "node_timex_tai_offset_seconds"), 37);
  EXPECT_EQ(value_of(s, "node_timex_sync_status"), 1);
}

TEST_F(TimexSourceTest, Types) {
  Snapshot s = sample([] { return Result<Timex>(synced_us()); });
  for (const metrics::Family& f : s.families.families()) {
    const bool counter = f.name.view().ends_with("_total");
    EXPECT_EQ(f.type, counter ? metrics::Type::kCounter : metrics::Type::kGauge) << f.name;
  }
  EXPECT_EQ(s.families.find("node_timex_pps_error_total")->type, metrics::Type::kCounter);
}

TEST_F(TimexSourceTest, NanosecondModeDividesOffsetAndJitterBy1e9) {
  Timex t = synced_us();
  t.status |= kStaNano;
  t.offset = -1500;
  t.jitter = 300;
  Snapshot s = sample([t] { return Result<Timex>(t); });
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_offset_seconds"), -1.5e-6);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_pps_jitter_seconds"), 3e-7);
  // maxerror and esterror are microseconds in both modes.
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_maxerror_seconds"), 0.008);
  EXPECT_DOUBLE_EQ(*value_of(s, "node_timex_estimated_error_seconds"), 0.00025);
  EXPECT_EQ(value_of(s, "node_timex_status"), 0x2001);
}

TEST_F(TimexSourceTest, TimeErrorIsNotSynchronised) {
  Timex t = synced_us();
  t.state = kTimeError;
  t.status = 0x0040;  // STA_UNSYNC
  Snapshot s = sample([t] { return Result<Timex>(t); });
  EXPECT_EQ(value_of(s, "node_timex_sync_status"), 0);
  t.state = 1;  // TIME_INS: a leap second is pending, still synchronised
  s = sample([t] { return Result<Timex>(t); });
  EXPECT_EQ(value_of(s, "node_timex_sync_status"), 1);
}

TEST_F(TimexSourceTest, ErrorGivesNoFamiliesAndOneReason) {
  Snapshot s = sample([] {
    return Result<Timex>(Error{{EPERM, boost::system::system_category()}, "adjtimex(2)"});
  });
  EXPECT_TRUE(s.families.families().empty());
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], "adjtimex: Operation not permitted");
}

TEST_F(TimexSourceTest, RealCallFromTheRegistry) {
  auto source = host_.make("timex");
  ASSERT_TRUE(source);
  Snapshot s = host_.sample(*source);
  // adjtimex(2) with modes 0 needs no privilege; where a seccomp profile refuses it, the
  // reason says so and nothing else is added.
  if (!s.errors.empty()) {
    EXPECT_EQ(s.errors[0].rfind("adjtimex: ", 0), 0u) << s.errors[0];
    EXPECT_TRUE(s.families.families().empty());
    return;
  }
  EXPECT_EQ(s.families.families().size(), 17u);
  const double tick = *value_of(s, "node_timex_tick_seconds");
  EXPECT_GT(tick, 0);
  EXPECT_LT(tick, 1);
  const double sync = *value_of(s, "node_timex_sync_status");
  EXPECT_TRUE(sync == 0 || sync == 1);
}

}  // namespace
}  // namespace nodeagent::nodeinfo
