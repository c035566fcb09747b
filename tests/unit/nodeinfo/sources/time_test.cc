#include <gtest/gtest.h>

#include "nodeinfo/source.h"
#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;

TEST(TimeSource, ClockAndClocksources) {
  TempDir dir;
  write_file(dir.path() / "proc/uptime", "1 1\n");
  write_file(dir.path() / "sys/devices/system/clocksource/clocksource0/available_clocksource",
             "kvm-clock tsc acpi_pm \n");
  write_file(dir.path() / "sys/devices/system/clocksource/clocksource0/current_clocksource",
             "kvm-clock\n");
  SourceHost host(dir.path());
  host.clock().advance(std::chrono::milliseconds(250));
  auto source = host.make("time");
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(value_of(s, "node_time_seconds"), 1700000000.25);
  EXPECT_EQ(
      value_of(s, "node_time_clocksource_available_info", R"(clocksource="acpi_pm",device="0")"),
      1);
  EXPECT_EQ(s.families.find("node_time_clocksource_available_info")->series.size(), 3u);
  EXPECT_EQ(
      value_of(s, "node_time_clocksource_current_info", R"(clocksource="kvm-clock",device="0")"),
      1);
  EXPECT_NE(s.families.find("node_time_zone_offset_seconds"), nullptr);
}

TEST(TimeSource, WithoutClocksourceDirectoryOnlyTheClock) {
  TempDir dir;
  write_file(dir.path() / "proc/uptime", "1 1\n");
  std::filesystem::create_directories(dir.path() / "sys");
  SourceHost host(dir.path());
  auto source = host.make("time");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_TRUE(value_of(s, "node_time_seconds"));
  // A family without series is not written (and so not in the output).
  const metrics::Family* f = s.families.find("node_time_clocksource_current_info");
  EXPECT_TRUE(f == nullptr || f->series.empty());
}

TEST(TimeSource, HostileClocksourceNamesAreSkipped) {
  TempDir dir;
  write_file(dir.path() / "proc/uptime", "1 1\n");
  write_file(dir.path() / "sys/devices/system/clocksource/clocksource0/available_clocksource",
             "tsc \"x\"} evil\x01 hpet\n");
  write_file(dir.path() / "sys/devices/system/clocksource/clocksource0/current_clocksource",
             "tsc\n");
  SourceHost host(dir.path());
  auto source = host.make("time");
  Snapshot s = host.sample(*source);
  EXPECT_EQ(s.families.find("node_time_clocksource_available_info")->series.size(), 2u);
}

}  // namespace
}  // namespace nodeagent::nodeinfo
