// parse_diskstats tables and the diskstats source on fixture and temporary hosts.
#include "nodeinfo/sources/diskstats.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;

// A temporary host tree with empty proc/ and sys/ roots; tests write the files.
class TempHost : public TempDir {
 public:
  TempHost() {
    std::filesystem::create_directories(path() / "proc");
    std::filesystem::create_directories(path() / "sys");
  }
};

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// "<major> <minor> <name> 1 2 3 ..." with `fields` stat columns, column i holding base + i.
std::string disk_line(std::string_view name, std::size_t fields, std::uint64_t base = 1,
                      unsigned major = 8, unsigned minor = 0) {
  std::string out = std::to_string(major) + " " + std::to_string(minor) + " " + std::string(name);
  for (std::size_t i = 0; i < fields; ++i) out += " " + std::to_string(base + i);
  return out + "\n";
}

// ---- parse_diskstats

TEST(ParseDiskstats, SeventeenFieldLine) {
  auto r = parse_diskstats(
      " 259       0 nvme0n1 1234567 2345 98765432 456789 2345678 345678 123456789 987654 3 "
      "1357913 2468024 1234 0 567890 321 45678 12345\n");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 1u);
  const DiskStatsLine& d = r->devices[0];
  EXPECT_EQ(d.major, 259u);
  EXPECT_EQ(d.minor, 0u);
  EXPECT_EQ(d.device, "nvme0n1");
  EXPECT_EQ(d.fields, 17u);
  EXPECT_EQ(d[DiskStat::kReadsCompleted], 1234567u);
  EXPECT_EQ(d[DiskStat::kSectorsRead], 98765432u);
  EXPECT_EQ(d[DiskStat::kIosInProgress], 3u);
  EXPECT_EQ(d[DiskStat::kSectorsDiscarded], 567890u);
  EXPECT_EQ(d[DiskStat::kFlushMs], 12345u);
}

TEST(ParseDiskstats, FieldCountsOfOlderKernels) {
  auto r = parse_diskstats(disk_line("sda", 11) + disk_line("sdb", 15, 100) + disk_line("sdc", 14));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 3u);
  EXPECT_EQ(r->devices[0].fields, 11u);
  EXPECT_EQ(r->devices[0][DiskStat::kWeightedIoMs], 11u);
  EXPECT_EQ(r->devices[0][DiskStat::kDiscardsCompleted], 0u);  // not printed: zero
  EXPECT_EQ(r->devices[1].fields, 15u);
  EXPECT_EQ(r->devices[1][DiskStat::kDiscardMs], 114u);
  EXPECT_EQ(r->devices[2].fields, 14u);
}

TEST(ParseDiskstats, ColumnsOfFutureKernelsAreIgnored) {
  auto r = parse_diskstats(disk_line("sda", 20));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->devices[0].fields, 17u);
  EXPECT_EQ(r->devices[0][DiskStat::kFlushMs], 17u);
}

TEST(ParseDiskstats, EmptyFileIsNoDevices) {
  auto r = parse_diskstats("");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->devices.empty());
}

TEST(ParseDiskstats, CapturedFixture) {
  auto r = parse_diskstats(read_text(fixture_host("vm-2cpu-psi") / "proc/diskstats"));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 10u);  // loop0-7, vda, zram0
  EXPECT_EQ(r->devices[8].device, "vda");
  EXPECT_EQ(r->devices[8].major, 254u);
  EXPECT_EQ(r->devices[8].fields, 17u);
  EXPECT_EQ(r->devices[8][DiskStat::kSectorsRead], 6328090u);
}

TEST(ParseDiskstats, HostileNamesAreSkipped) {
  const std::string long_name(kMaxDiskNameLength + 1, 'a');
  auto r =
      parse_diskstats(disk_line("sda", 17) + disk_line("sd\"a}", 17) + disk_line("sd\x01x", 17) +
                      disk_line(long_name, 17) + disk_line("d\xc3\xa9v", 17) +
                      disk_line("dm-0", 17) + disk_line("md:127_x.y", 17));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 3u);
  EXPECT_EQ(r->devices[0].device, "sda");
  EXPECT_EQ(r->devices[1].device, "dm-0");
  EXPECT_EQ(r->devices[2].device, "md:127_x.y");
  EXPECT_EQ(r->skipped, 4u);
}

TEST(ParseDiskstats, RepeatedNameKeepsTheFirst) {
  auto r =
      parse_diskstats(disk_line("sda", 17, 1) + disk_line("sdb", 17) + disk_line("sda", 17, 1000));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 2u);
  EXPECT_EQ(r->devices[0][DiskStat::kReadsCompleted], 1u);
  EXPECT_EQ(r->skipped, 1u);
}

TEST(ParseDiskstats, TooManyDevicesAreRefused) {
  std::string text;
  for (std::size_t i = 0; i <= kMaxDisks; ++i) text += disk_line("d" + std::to_string(i), 11);
  auto r = parse_diskstats(text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("more than 4096 devices"), std::string::npos);
}

struct BadCase {
  const char* name;
  std::string_view input;
  const char* reason_contains;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

class ParseDiskstatsBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseDiskstatsBad, Rejected) {
  auto r = parse_diskstats(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_NE(r.error().message().find(GetParam().reason_contains), std::string::npos)
      << r.error().message();
  EXPECT_EQ(r.error().detail.find('\n'), std::string::npos);
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseDiskstatsBad,
    testing::Values(
        BadCase{"no_newline", "8 0 sda 1 2 3 4 5 6 7 8 9 10 11", "truncated"},
        BadCase{"cut_mid_line", "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 0 sdb 1 2", "truncated"},
        BadCase{"cut_line_with_newline", "8 0 sda 1 2 3\n", "line 1: expected at least 11 stat"},
        BadCase{"two_fields", "8 0\n", "line 1: expected <major> <minor> <name>"},
        BadCase{"blank_line", "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n\n", "line 2: expected"},
        BadCase{"word_counter", "8 0 sda 1 2 three 4 5 6 7 8 9 10 11\n", "bad counter \"three\""},
        BadCase{"negative", "8 0 sda 1 2 -3 4 5 6 7 8 9 10 11\n", "bad counter \"-3\""},
        BadCase{"nan", "8 0 sda nan 2 3 4 5 6 7 8 9 10 11\n", "bad counter \"nan\""},
        BadCase{"exponent", "8 0 sda 1e3 2 3 4 5 6 7 8 9 10 11\n", "bad counter"},
        BadCase{"overflow", "8 0 sda 18446744073709551616 2 3 4 5 6 7 8 9 10 11\n", "bad counter"},
        BadCase{"bad_major", "x 0 sda 1 2 3 4 5 6 7 8 9 10 11\n", "bad major \"x\""},
        BadCase{"huge_minor", "8 4294967296 sda 1 2 3 4 5 6 7 8 9 10 11\n", "bad minor"},
        BadCase{"nul_byte", std::string_view("8 0 sda 1\0 2 3 4 5 6 7 8 9 10 11\n", 33),
                "bad counter \"1?\""},
        BadCase{"long_garbage_is_cut",
                "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
                "\"xxxxxxxxxxxxxxxx...\""}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- the diskstats source

std::unique_ptr<Source> make_diskstats(SourceHost& host) { return host.make("diskstats"); }

TEST(DiskstatsSource, FixtureHostExactValues) {
  SourceHost host(fixture_host("server-64cpu-psi"));
  auto source = make_diskstats(host);
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  const std::string nvme = R"(device="nvme0n1")";
  EXPECT_EQ(value_of(s, "node_disk_reads_completed_total", nvme), 1234567);
  EXPECT_EQ(value_of(s, "node_disk_reads_merged_total", nvme), 2345);
  EXPECT_EQ(value_of(s, "node_disk_read_bytes_total", nvme), 98765432.0 * 512);
  EXPECT_EQ(value_of(s, "node_disk_read_time_seconds_total", nvme), 456.789);
  EXPECT_EQ(value_of(s, "node_disk_writes_completed_total", nvme), 2345678);
  EXPECT_EQ(value_of(s, "node_disk_writes_merged_total", nvme), 345678);
  EXPECT_EQ(value_of(s, "node_disk_written_bytes_total", nvme), 123456789.0 * 512);
  EXPECT_EQ(value_of(s, "node_disk_write_time_seconds_total", nvme), 987.654);
  EXPECT_EQ(value_of(s, "node_disk_io_now", nvme), 3);
  EXPECT_EQ(value_of(s, "node_disk_io_time_seconds_total", nvme), 1357.913);
  EXPECT_EQ(value_of(s, "node_disk_io_time_weighted_seconds_total", nvme), 2468.024);
  EXPECT_EQ(value_of(s, "node_disk_discards_completed_total", nvme), 1234);
  EXPECT_EQ(value_of(s, "node_disk_discards_merged_total", nvme), 0);
  EXPECT_EQ(value_of(s, "node_disk_discarded_sectors_total", nvme), 567890);  // not bytes
  EXPECT_EQ(value_of(s, "node_disk_discard_time_seconds_total", nvme), 0.321);
  EXPECT_EQ(value_of(s, "node_disk_flush_requests_total", nvme), 45678);
  EXPECT_EQ(value_of(s, "node_disk_flush_requests_time_seconds_total", nvme), 12.345);
  EXPECT_EQ(value_of(s, "node_disk_io_now", R"(device="dm-0")"), 2);
  EXPECT_EQ(value_of(s, "node_disk_flush_requests_time_seconds_total", R"(device="vda")"), 0.567);
  EXPECT_EQ(value_of(s, "node_disk_info",
                     R"(device="nvme0n1",major="259",minor="0",model="",path="",revision="",)"
                     R"(serial="",wwn="")"),
            1);

  // Partitions and loop devices are excluded by default; series in device name order.
  const metrics::Family* reads = s.families.find("node_disk_reads_completed_total");
  ASSERT_NE(reads, nullptr);
  EXPECT_EQ(reads->type, metrics::Type::kCounter);
  std::vector<std::string> labels;
  for (const metrics::Series& series : reads->series) labels.emplace_back(series.labels.view());
  EXPECT_EQ(labels, (std::vector<std::string>{R"(device="dm-0")", R"(device="nvme0n1")",
                                              R"(device="sr0")", R"(device="vda")"}));
  EXPECT_EQ(s.families.find("node_disk_io_now")->type, metrics::Type::kGauge);
  EXPECT_EQ(s.families.find("node_disk_info")->series.size(), 4u);

  ASSERT_EQ(s.disks.size(), 4u);
  EXPECT_EQ(s.disks[1].device, "nvme0n1");
  EXPECT_EQ(s.disks[1].read_bytes, 98765432ull * 512);
  EXPECT_EQ(s.disks[1].written_bytes, 123456789ull * 512);
  EXPECT_DOUBLE_EQ(s.disks[1].io_time_seconds, 1357.913);
  EXPECT_FALSE(s.disks[1].read_bytes_per_second);  // first sample
  EXPECT_FALSE(s.disks[1].written_bytes_per_second);
}

TEST(DiskstatsSource, FamiliesOnlyForTheColumnsPrinted) {
  TempHost dir;
  write_file(dir.path() / "proc/diskstats", disk_line("sda", 11) + disk_line("sdb", 15));
  SourceHost host(dir.path());
  auto source = make_diskstats(host);
  Snapshot s = host.sample(*source);
  EXPECT_EQ(value_of(s, "node_disk_io_time_weighted_seconds_total", R"(device="sda")"), 0.011);
  EXPECT_FALSE(value_of(s, "node_disk_discards_completed_total", R"(device="sda")"));
  EXPECT_EQ(value_of(s, "node_disk_discards_completed_total", R"(device="sdb")"), 12);
  EXPECT_EQ(s.families.find("node_disk_flush_requests_total"), nullptr);
}

TEST(DiskstatsSource, RatesBetweenTwoSamples) {
  TempHost dir;
  const auto file = dir.path() / "proc/diskstats";
  // sectors read = base + 2, sectors written = base + 6
  write_file(file, disk_line("sda", 17, 1000) + disk_line("sdb", 17, 5000));
  SourceHost host(dir.path());
  auto source = make_diskstats(host);
  Snapshot first = host.sample(*source);
  ASSERT_EQ(first.disks.size(), 2u);
  EXPECT_FALSE(first.disks[0].read_bytes_per_second);

  host.clock().advance(std::chrono::seconds(2));
  // sda: +100 sectors both ways; sdb went backwards (a reset), sdc is new.
  write_file(file, disk_line("sda", 17, 1100) + disk_line("sdb", 17, 10) + disk_line("sdc", 17, 7));
  Snapshot second = host.sample(*source);
  ASSERT_EQ(second.disks.size(), 3u);
  EXPECT_EQ(second.disks[0].device, "sda");
  EXPECT_EQ(second.disks[0].read_bytes_per_second, 100.0 * 512 / 2);
  EXPECT_EQ(second.disks[0].written_bytes_per_second, 100.0 * 512 / 2);
  EXPECT_EQ(second.disks[1].device, "sdb");
  EXPECT_FALSE(second.disks[1].read_bytes_per_second);
  EXPECT_FALSE(second.disks[1].written_bytes_per_second);
  EXPECT_EQ(second.disks[2].device, "sdc");
  EXPECT_FALSE(second.disks[2].read_bytes_per_second);

  host.clock().advance(std::chrono::seconds(4));
  write_file(file,
             disk_line("sda", 17, 1100) + disk_line("sdb", 17, 410) + disk_line("sdc", 17, 7));
  Snapshot third = host.sample(*source);
  ASSERT_EQ(third.disks.size(), 3u);
  EXPECT_EQ(third.disks[0].read_bytes_per_second, 0.0);
  EXPECT_EQ(third.disks[1].read_bytes_per_second, 400.0 * 512 / 4);
  EXPECT_EQ(third.disks[2].written_bytes_per_second, 0.0);
}

TEST(DiskstatsSource, OneCounterBackwardsLosesOnlyItsRate) {
  TempHost dir;
  const auto file = dir.path() / "proc/diskstats";
  write_file(file, "8 0 sda 1 1 500 1 1 1 500 1 0 1 1\n");
  SourceHost host(dir.path());
  auto source = make_diskstats(host);
  host.sample(*source);
  host.clock().advance(std::chrono::seconds(1));
  write_file(file, "8 0 sda 1 1 400 1 1 1 510 1 0 1 1\n");
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.disks.size(), 1u);
  EXPECT_FALSE(s.disks[0].read_bytes_per_second);
  EXPECT_EQ(s.disks[0].written_bytes_per_second, 10.0 * 512);
}

TEST(DiskstatsSource, ExcludeRegexFromOptions) {
  TempHost dir;
  write_file(dir.path() / "proc/diskstats",
             disk_line("sda", 11) + disk_line("sda1", 11) + disk_line("loop0", 11));
  SourceHost host(dir.path());
  host.options().diskstats_device_exclude = "^sda";
  auto source = make_diskstats(host);
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.disks.size(), 1u);
  EXPECT_EQ(s.disks[0].device, "loop0");
}

TEST(DiskstatsSource, NewDeviceNamesAreEvaluated) {
  TempHost dir;
  const auto file = dir.path() / "proc/diskstats";
  write_file(file, disk_line("vda", 11));
  SourceHost host(dir.path());
  auto source = make_diskstats(host);
  EXPECT_EQ(host.sample(*source).disks.size(), 1u);
  write_file(file, disk_line("vda", 11) + disk_line("vda1", 11) + disk_line("vdb", 11));
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.disks.size(), 2u);  // vda1 is a partition
  EXPECT_EQ(s.disks[1].device, "vdb");
  write_file(file, disk_line("vdb", 11));
  s = host.sample(*source);
  ASSERT_EQ(s.disks.size(), 1u);
  EXPECT_EQ(s.disks[0].device, "vdb");
}

TEST(DiskstatsSource, BadRegexFailsTheFactory) {
  TempHost dir;
  write_file(dir.path() / "proc/diskstats", "");
  SourceHost host(dir.path());
  host.options().diskstats_device_exclude = "(";
  for (const SourceInfo& info : all_sources()) {
    if (info.name != "diskstats") continue;
    auto made = info.make(host.options());
    ASSERT_FALSE(made);
    EXPECT_NE(made.error().detail.find("diskstats device exclude \"(\""), std::string::npos)
        << made.error().detail;
    return;
  }
  FAIL() << "diskstats is not registered";
}

TEST(DiskstatsSource, MissingFileIsReported) {
  TempHost dir;
  SourceHost host(dir.path());
  auto source = make_diskstats(host);
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], (dir.path() / "proc/diskstats").string() + ": No such file or directory");
  EXPECT_TRUE(s.disks.empty());
  EXPECT_TRUE(s.families.families().empty());
}

TEST(DiskstatsSource, GarbageIsReportedAndNothingEmitted) {
  TempHost dir;
  write_file(dir.path() / "proc/diskstats", disk_line("sda", 11) + "8 1 sdb 1 2 x\n");
  SourceHost host(dir.path());
  auto source = make_diskstats(host);
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0],
            (dir.path() / "proc/diskstats").string() + ": malformed: line 2: bad counter \"x\"");
  EXPECT_TRUE(s.disks.empty());
  EXPECT_TRUE(s.families.families().empty());
}

TEST(DiskstatsSource, CapturedHost) {
  SourceHost host(fixture_host("vm-2cpu-psi"));
  auto source = make_diskstats(host);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.disks.size(), 2u);  // vda and zram0 (1.5's default keeps zram)
  EXPECT_EQ(s.disks[0].device, "vda");
  EXPECT_EQ(s.disks[1].device, "zram0");
  EXPECT_EQ(value_of(s, "node_disk_read_bytes_total", R"(device="vda")"), 6328090.0 * 512);
}

}  // namespace
}  // namespace nodeagent::nodeinfo
