#include "nodeinfo/sources/conntrack.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;

// Linux 6.x's header, as net/netfilter/nf_conntrack_standalone.c prints it (two blanks twice).
constexpr std::string_view kHeader6 =
    "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop "
    "early_drop icmp_error  expect_new expect_create expect_delete search_restart\n";

// A cpu line of the 6.x format: entries, then the 16 other columns all `v`.
std::string line6(std::string_view entries, std::string_view v) {
  std::string out(entries);
  out += ' ';
  for (int i = 0; i < 16; ++i) {
    out += ' ';
    out += v;
    if (i == 11) out += ' ';
  }
  return out + "\n";
}

std::size_t index_of(std::string_view column) {
  for (std::size_t i = 0; i < kConntrackStatColumns.size(); ++i) {
    if (kConntrackStatColumns[i] == column) return i;
  }
  return kConntrackStatColumns.size();
}

// ---- parse_conntrack_stat

TEST(ParseConntrackStat, Kernel6TwoCpus) {
  const std::string text =
      std::string(kHeader6) +
      "000000c4  00000000 00000001 00000000 0000001b 000003a1 00000000 00000000 00000010 "
      "00000000 00000002 00000000 00000002  00000000 00000000 00000000 00000003\n"
      "000000c4  00000001 00000002 00000000 00000007 000002c4 00000000 00000000 00000020 "
      "00000001 00000000 00000004 00000000  00000000 00000000 00000000 00000005\n";
  auto r = parse_conntrack_stat(text);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 0xc4u);
  EXPECT_EQ(r->cpu_lines, 2u);
  EXPECT_EQ(r->stats[index_of("found")], 3u);
  EXPECT_EQ(r->stats[index_of("invalid")], 0x1bu + 0x07u);
  EXPECT_EQ(r->stats[index_of("ignore")], 0x3a1u + 0x2c4u);
  EXPECT_EQ(r->stats[index_of("insert")], 0x30u);
  EXPECT_EQ(r->stats[index_of("insert_failed")], 1u);
  EXPECT_EQ(r->stats[index_of("drop")], 2u);
  EXPECT_EQ(r->stats[index_of("early_drop")], 4u);
  EXPECT_EQ(r->stats[index_of("search_restart")], 8u);
}

TEST(ParseConntrackStat, EntriesComeFromTheFirstLine) {
  auto r = parse_conntrack_stat(std::string(kHeader6) + line6("00000010", "00000000") +
                                line6("00000011", "00000000"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 16u);
}

TEST(ParseConntrackStat, ColumnsByHeaderName) {
  // An older kernel's set (4.9: "searched" and "delete_list", no search_restart), reordered to
  // show that only the header decides which column is which.
  auto r = parse_conntrack_stat(
      "searched found entries new invalid ignore delete delete_list insert insert_failed drop "
      "early_drop icmp_error  expect_new expect_create expect_delete\n"
      "00000009 00000001 0000002a 00000000 00000002 00000003 00000000 00000000 00000004 "
      "00000005 00000006 00000007 00000008  00000000 00000000 00000000\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 42u);
  EXPECT_EQ(r->stats[index_of("found")], 1u);
  EXPECT_EQ(r->stats[index_of("early_drop")], 7u);
  EXPECT_FALSE(r->stats[index_of("search_restart")]);
}

TEST(ParseConntrackStat, OnlyEntriesColumn) {
  auto r = parse_conntrack_stat("entries\n00000003\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 3u);
  for (const auto& stat : r->stats) EXPECT_FALSE(stat);
}

TEST(ParseConntrackStat, SumsOfTheMostCpusAreExact) {
  std::string text(kHeader6);
  for (std::size_t i = 0; i < kMaxConntrackCpuLines; ++i) text += line6("ffffffff", "ffffffff");
  auto r = parse_conntrack_stat(text);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 0xffffffffu);
  EXPECT_EQ(r->stats[index_of("drop")], std::uint64_t{0xffffffff} * kMaxConntrackCpuLines);
  auto over = parse_conntrack_stat(text + line6("0", "0"));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().detail, "more than 8192 cpu lines");
}

struct BadCase {
  const char* name;
  std::string input;
  const char* reason;
};
std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

std::string many_columns() {
  std::string header = "entries";
  std::string line = "0";
  for (std::size_t i = 0; i < kMaxConntrackColumns; ++i) {
    header += " c" + std::to_string(i);
    line += " 0";
  }
  return header + "\n" + line + "\n";
}

class ParseConntrackStatBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseConntrackStatBad, Rejected) {
  auto r = parse_conntrack_stat(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().detail, GetParam().reason);
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseConntrackStatBad,
    testing::Values(
        BadCase{"empty", "", "empty input"},
        BadCase{"truncated", std::string(kHeader6) + "000000c4  0000",
                "truncated input (no trailing newline)"},
        BadCase{"header_only", std::string(kHeader6), "no cpu lines"},
        BadCase{"no_entries_column", "found drop\n00000000 00000000\n",
                "line 1: no \"entries\" column"},
        BadCase{"duplicate_entries", "entries entries\n0 0\n",
                "line 1: duplicate column \"entries\""},
        BadCase{"duplicate_stat", "entries drop drop\n0 0 0\n",
                "line 1: duplicate column \"drop\""},
        BadCase{"too_many_columns", many_columns(), "line 1: more than 64 columns"},
        BadCase{"short_line", std::string(kHeader6) + "000000c4  00000000\n",
                "line 2: expected 17 columns"},
        BadCase{"long_line", "entries drop\n00000001 00000002 00000003\n",
                "line 2: more than 2 columns"},
        BadCase{"blank_line", "entries\n00000001\n\n", "line 3: expected 1 columns"},
        BadCase{"upper_case_hex", "entries\n000000C4\n", "line 2: bad counter \"000000C4\""},
        BadCase{"nine_digits", "entries\n1000000000\n", "line 2: bad counter \"1000000000\""},
        BadCase{"decimal_sign", "entries\n-1\n", "line 2: bad counter \"-1\""},
        BadCase{"prefix", "entries\n0x10\n", "line 2: bad counter \"0x10\""},
        BadCase{"binary", std::string("entries\n\x01\"\\\xff\n", 13),
                "line 2: bad counter \"????\""}));

// ---- parse_conntrack_max

TEST(ParseConntrackMax, Values) {
  EXPECT_EQ(parse_conntrack_max("262144\n").value(), 262144u);
  EXPECT_EQ(parse_conntrack_max("0\n").value(), 0u);
  for (std::string_view bad : {"", "262144", "-1\n", "1 2\n", "x\n", "\n", "1\n2\n"}) {
    auto r = parse_conntrack_max(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kMalformed);
  }
  EXPECT_EQ(parse_conntrack_max("-1\n").error().detail, "bad limit \"-1\"");
}

// ---- the source

constexpr const char* kStatPath = "proc/1/net/stat/nf_conntrack";
constexpr const char* kMaxPath = "proc/sys/net/netfilter/nf_conntrack_max";

TEST(ConntrackSource, CapturedHost) {
  SourceHost host(fixture_host("vm-2cpu-psi"));
  auto source = host.make("conntrack");
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.families.families().size(), 10u);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_entries"), 196);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_entries_limit"), 262144);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_found"), 0);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_invalid"), 0x1b + 0x07);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_ignore"), 0x3a1 + 0x2c4);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_insert"), 0);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_insert_failed"), 0);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_drop"), 0);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_early_drop"), 0);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_stat_search_restart"), 3 + 5);
  for (const metrics::Family& f : s.families.families()) {
    EXPECT_EQ(f.type, metrics::Type::kGauge) << f.name;  // node_exporter 1.5's types, stats too
  }
}

TEST(ConntrackSource, ReadsPid1NetNeverSelf) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  write_file(dir.path() / kStatPath, "entries\n00000007\n");
  write_file(dir.path() / "proc/self/net/stat/nf_conntrack", "entries\n00000063\n");
  write_file(dir.path() / "proc/net/stat/nf_conntrack", "entries\n00000063\n");
  write_file(dir.path() / kMaxPath, "65536\n");
  SourceHost host(dir.path());
  auto source = host.make("conntrack");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(value_of(s, "node_nf_conntrack_entries"), 7);
  EXPECT_EQ(value_of(s, "node_nf_conntrack_entries_limit"), 65536);
  EXPECT_EQ(s.families.families().size(), 2u);  // no stat columns in this header

  std::filesystem::remove(dir.path() / kStatPath);
  Snapshot without_pid1 = host.sample(*source);
  EXPECT_FALSE(value_of(without_pid1, "node_nf_conntrack_entries"));  // no fallback to self
  EXPECT_EQ(value_of(without_pid1, "node_nf_conntrack_entries_limit"), 65536);
}

TEST(ConntrackSource, WithoutTheModuleNothingAndNoError) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "proc/1/net/stat");
  std::filesystem::create_directories(dir.path() / "proc/sys/net");
  std::filesystem::create_directories(dir.path() / "sys");
  SourceHost host(dir.path());
  auto source = host.make("conntrack");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_TRUE(s.families.families().empty());
}

TEST(ConntrackSource, MalformedFilesAreReported) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  write_file(dir.path() / kStatPath, "entries found\n00000001\n");
  write_file(dir.path() / kMaxPath, "lots\n");
  SourceHost host(dir.path());
  auto source = host.make("conntrack");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.families.families().empty());
  ASSERT_EQ(s.errors.size(), 2u);
  // The limit is read first: whether it exists says if the module is loaded.
  EXPECT_EQ(s.errors[0], (dir.path() / kMaxPath).string() + ": malformed: bad limit \"lots\"");
  EXPECT_EQ(s.errors[1],
            (dir.path() / kStatPath).string() + ": malformed: line 2: expected 2 columns");
}

TEST(ConntrackSource, OtherReadErrorsAreReported) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  std::filesystem::create_directories(dir.path() / kStatPath);  // a directory: EISDIR
  write_file(dir.path() / kMaxPath, "65536\n");
  SourceHost host(dir.path());
  auto source = host.make("conntrack");
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].rfind((dir.path() / kStatPath).string() + ": ", 0), 0u) << s.errors[0];
  EXPECT_FALSE(value_of(s, "node_nf_conntrack_entries"));
  EXPECT_EQ(value_of(s, "node_nf_conntrack_entries_limit"), 65536);
}

// Samples `host` as a user other than root (root reads a mode 0 directory anyway) and prints
// its errors; runs in the death test's child, so the test process keeps its credentials.
void sample_unprivileged(SourceHost& host, Source& source) {
  testing_util::drop_root_or_exit();
  Snapshot s = host.sample(source);
  for (const std::string& e : s.errors) std::fprintf(stderr, "%s\n", e.c_str());
  std::exit(value_of(s, "node_nf_conntrack_entries_limit") == 65536 ? 0 : 1);
}

TEST(ConntrackSource, AModuleWithoutPid1sFileIsHidepid2) {
  TempDir dir;
  write_file(dir.path() / kMaxPath, "65536\n");  // loaded, but /proc/1 invisible (hidepid=2)
  std::filesystem::create_directories(dir.path() / "sys");
  SourceHost host(dir.path());
  auto source = host.make("conntrack");
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0],
            (dir.path() / kStatPath).string() +
                ": No such file or directory (needs the host's procfs without hidepid)");
  EXPECT_EQ(value_of(s, "node_nf_conntrack_entries_limit"), 65536);
  EXPECT_EQ(s.families.find("node_nf_conntrack_entries"), nullptr);
}

TEST(ConntrackSource, HidepidIsExplained) {
  TempDir dir;
  write_file(dir.path() / kStatPath, "entries\n00000007\n");
  write_file(dir.path() / kMaxPath, "65536\n");
  std::filesystem::create_directories(dir.path() / "sys");
  namespace fs = std::filesystem;
  fs::permissions(dir.path(),
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  SourceHost host(dir.path());  // roots opened with the test's credentials
  auto source = host.make("conntrack");
  ASSERT_TRUE(source);
  fs::permissions(dir.path() / "proc/1", fs::perms::none);  // like hidepid=1 on the host
  // Other tests of this binary leave threads behind (statfs workers): fork only a fresh
  // process, as gtest advises for death tests in threaded programs (and TSan needs).
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(sample_unprivileged(host, *source), testing::ExitedWithCode(0),
              "/proc/1/net/stat/nf_conntrack: Permission denied \\(needs the host's procfs "
              "without hidepid\\)");
  fs::permissions(dir.path() / "proc/1", fs::perms::owner_all);
}

}  // namespace
}  // namespace nodeagent::nodeinfo
