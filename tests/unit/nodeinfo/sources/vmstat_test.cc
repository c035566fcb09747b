#include "nodeinfo/sources/vmstat.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;

// ---- parse_vmstat

TEST(ParseVmstat, KernelLines) {
  auto r = parse_vmstat("nr_free_pages 1471116\npgfault 19378958\noom_kill 0\n");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->lines.size(), 3u);
  EXPECT_EQ(r->lines[0].name, "nr_free_pages");
  EXPECT_EQ(r->lines[0].value, 1471116u);
  EXPECT_EQ(r->lines[1].name, "pgfault");
  EXPECT_EQ(r->lines[2].value, 0u);
}

TEST(ParseVmstat, LargestCounter) {
  auto r = parse_vmstat("nr_dirty 18446744073709551615\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->lines[0].value, 18446744073709551615u);
}

TEST(ParseVmstat, HostileNamesAreSkipped) {
  const std::string long_name(kMaxVmstatNameSize + 1, 'a');
  const std::string text = "pgfault 1\nPgFault 2\nx{y=\"1\"} 3\nbad\x01name 4\n" + long_name +
                           " 5\n" + std::string(kMaxVmstatNameSize, 'b') + " 6\n";
  auto r = parse_vmstat(text);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->lines.size(), 2u);
  EXPECT_EQ(r->lines[0].name, "pgfault");
  EXPECT_EQ(r->lines[1].value, 6u);
}

TEST(ParseVmstat, ExactlyTheLineLimit) {
  std::string text;
  for (std::size_t i = 0; i < kMaxVmstatLines; ++i) text += "f" + std::to_string(i) + " 1\n";
  auto r = parse_vmstat(text);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->lines.size(), kMaxVmstatLines);
  auto over = parse_vmstat(text + "one_more 1\n");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().detail, "more than 512 lines");
}

TEST(ParseVmstat, CapturedFixture) {
  std::string text;
  ASSERT_TRUE(std::filesystem::exists(fixture_host("vm-2cpu-psi") / "proc/vmstat"));
  std::ifstream in(fixture_host("vm-2cpu-psi") / "proc/vmstat");
  text.assign(std::istreambuf_iterator<char>(in), {});
  auto r = parse_vmstat(text);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->lines.size(), 192u);
}

struct BadCase {
  const char* name;
  std::string input;
  const char* reason;  // the whole detail
};
std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

class ParseVmstatBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseVmstatBad, Rejected) {
  auto r = parse_vmstat(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().detail, GetParam().reason);
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseVmstatBad,
    testing::Values(
        BadCase{"empty", "", "empty input"},
        BadCase{"no_newline", "pgfault 1\npgmajfault 2", "truncated input (no trailing newline)"},
        BadCase{"cut_after_name", "pgfault 1\npgmaj", "truncated input (no trailing newline)"},
        BadCase{"no_value", "pgfault 1\npgmajfault\n", "line 2: expected \"<name> <value>\""},
        BadCase{"blank_line", "pgfault 1\n\n", "line 2: expected \"<name> <value>\""},
        BadCase{"extra_field", "pgfault 1 2\n", "line 1: expected \"<name> <value>\""},
        BadCase{"word", "pgfault many\n", "line 1: bad value \"many\""},
        BadCase{"negative", "pgfault -1\n", "line 1: bad value \"-1\""},
        BadCase{"nan", "pgfault nan\n", "line 1: bad value \"nan\""},
        BadCase{"hex", "pgfault 0x10\n", "line 1: bad value \"0x10\""},
        BadCase{"overflow", "pgfault 18446744073709551616\n",
                "line 1: bad value \"1844674407370955...\""},
        BadCase{"binary_value", std::string("pgfault \x01\xff\"\n", 12),
                "line 1: bad value \"???\""},
        BadCase{"bad_value_of_hostile_name", "Evil x\n", "line 1: bad value \"x\""},
        BadCase{"duplicate", "pgfault 1\noom_kill 0\npgfault 2\n", "duplicate \"pgfault\""}));

TEST(ParseVmstat, TheNamesOfAnEarlierReadingSkipOnlyAnEqualReadingsDuplicateCheck) {
  const std::vector<std::string> known = {"pgfault", "oom_kill"};
  auto same = parse_vmstat("pgfault 1\noom_kill 0\n", known);
  ASSERT_TRUE(same) << same.error().message();
  EXPECT_TRUE(same->same_as_known);
  auto other = parse_vmstat("pgfault 1\noom_kill 0\npgfault 2\n", known);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().detail, "duplicate \"pgfault\"");
  auto reordered = parse_vmstat("oom_kill 0\npgfault 1\n", known);
  ASSERT_TRUE(reordered);
  EXPECT_FALSE(reordered->same_as_known);
}

// ---- the source

TEST(VmstatSource, DefaultFieldsOfCapturedHost) {
  SourceHost host(fixture_host("vm-2cpu-psi"));
  auto source = host.make("vmstat");
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.families.families().size(), 7u);
  EXPECT_EQ(value_of(s, "node_vmstat_pgpgin"), 3145081);
  EXPECT_EQ(value_of(s, "node_vmstat_pgpgout"), 2420460);
  EXPECT_EQ(value_of(s, "node_vmstat_pswpin"), 0);
  EXPECT_EQ(value_of(s, "node_vmstat_pswpout"), 0);
  EXPECT_EQ(value_of(s, "node_vmstat_pgfault"), 19378958);
  EXPECT_EQ(value_of(s, "node_vmstat_pgmajfault"), 2790);
  EXPECT_EQ(value_of(s, "node_vmstat_oom_kill"), 0);
  for (const metrics::Family& f : s.families.families()) {
    EXPECT_EQ(f.type, metrics::Type::kUntyped) << f.name;
    ASSERT_EQ(f.series.size(), 1u);
    EXPECT_EQ(f.series[0].labels, "");
  }
}

TEST(VmstatSource, ValuesAreExactIntegers) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  write_file(dir.path() / "proc/vmstat", "pgfault 18446744073709551615\n");
  SourceHost host(dir.path());
  auto source = host.make("vmstat");
  Snapshot s = host.sample(*source);
  const metrics::Family* f = s.families.find("node_vmstat_pgfault");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(std::get<std::uint64_t>(f->series[0].value), 18446744073709551615u);
}

TEST(VmstatSource, PatternIsSearchedLikeNodeExporters) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  write_file(dir.path() / "proc/vmstat", "nr_free_pages 5\npgfault 7\npgmajfault 1\nthp_x 2\n");
  SourceHost host(dir.path());
  host.options().vmstat_fields = "fault";  // unanchored, as Go's MatchString
  auto source = host.make("vmstat");
  Snapshot s = host.sample(*source);
  EXPECT_EQ(s.families.families().size(), 2u);
  EXPECT_EQ(value_of(s, "node_vmstat_pgfault"), 7);
  EXPECT_EQ(value_of(s, "node_vmstat_pgmajfault"), 1);
}

TEST(VmstatSource, ChangedFieldListIsDecidedAgain) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  write_file(dir.path() / "proc/vmstat", "pgfault 7\nnr_free_pages 5\n");
  SourceHost host(dir.path());
  auto source = host.make("vmstat");
  Snapshot first = host.sample(*source);
  EXPECT_EQ(first.families.families().size(), 1u);
  Snapshot again = host.sample(*source);
  EXPECT_EQ(value_of(again, "node_vmstat_pgfault"), 7);
  write_file(dir.path() / "proc/vmstat", "nr_free_pages 5\noom_kill 3\npgfault 8\n");
  Snapshot changed = host.sample(*source);
  EXPECT_EQ(changed.families.families().size(), 2u);
  EXPECT_EQ(value_of(changed, "node_vmstat_oom_kill"), 3);
  EXPECT_EQ(value_of(changed, "node_vmstat_pgfault"), 8);
  EXPECT_FALSE(value_of(changed, "node_vmstat_nr_free_pages"));
}

TEST(VmstatSource, BadRegexFailsTheFactory) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "proc");
  std::filesystem::create_directories(dir.path() / "sys");
  SourceHost host(dir.path());
  host.options().vmstat_fields = "^(pg";
  for (const SourceInfo& info : all_sources()) {
    if (info.name != "vmstat") continue;
    auto made = info.make(host.options());
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, Errc::kMalformed);
    EXPECT_EQ(made.error().detail.rfind("vmstat fields \"^(pg\": ", 0), 0u) << made.error().detail;
    return;
  }
  FAIL() << "no vmstat source";
}

TEST(VmstatSource, MissingFileIsReported) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "proc");
  std::filesystem::create_directories(dir.path() / "sys");
  SourceHost host(dir.path());
  auto source = host.make("vmstat");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.families.families().empty());
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], (dir.path() / "proc/vmstat").string() + ": No such file or directory");
}

TEST(VmstatSource, MalformedFileIsReportedAndEmitsNothing) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  write_file(dir.path() / "proc/vmstat", "pgfault 7\npgmajfault x\n");
  SourceHost host(dir.path());
  auto source = host.make("vmstat");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.families.families().empty());
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0],
            (dir.path() / "proc/vmstat").string() + ": malformed: line 2: bad value \"x\"");
}

}  // namespace
}  // namespace nodeagent::nodeinfo
