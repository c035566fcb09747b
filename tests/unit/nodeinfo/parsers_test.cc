#include "nodeinfo/parsers.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

std::string fixture(const std::string& host, const std::string& rel) {
  std::ifstream in(std::string(NODEAGENT_FIXTURES_DIR) + "/" + host + "/proc/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct BadCase {
  const char* name;
  std::string_view input;
  const char* reason_contains;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

// ---- /proc/uptime

TEST(ParseUptime, RealFile) {
  auto r = parse_uptime("829.50 1562.97\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_DOUBLE_EQ(r->uptime_seconds, 829.5);
  EXPECT_DOUBLE_EQ(r->idle_seconds, 1562.97);
}

TEST(ParseUptime, CapturedFixture) {
  auto r = parse_uptime(fixture("vm-2cpu-psi", "uptime"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_DOUBLE_EQ(r->uptime_seconds, 1081.08);
}

class ParseUptimeBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseUptimeBad, Rejected) {
  auto r = parse_uptime(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(GetParam().reason_contains), std::string::npos)
      << r.error().message();
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseUptimeBad,
    testing::Values(
        BadCase{"empty", "", "empty"}, BadCase{"no_newline", "829.50 1562.97", "truncated"},
        BadCase{"cut_mid_number", "829.5", "truncated"},
        BadCase{"one_field", "829.50\n", "expected 2 fields"},
        BadCase{"three_fields", "1.00 2.00 3.00\n", "expected 2 fields"},
        BadCase{"words", "up for\n", "bad uptime"}, BadCase{"nan", "nan 1.00\n", "bad uptime"},
        BadCase{"inf", "1.00 inf\n", "bad idle"}, BadCase{"negative", "-1.00 2.00\n", "bad uptime"},
        BadCase{"exponent", "1e5 2.00\n", "bad uptime"},
        BadCase{"two_dots", "1..2 3.00\n", "bad uptime"},
        BadCase{"trailing_dot", "1. 3.00\n", "bad uptime"},
        BadCase{"two_lines", "1.00 2.00\n3.00 4.00\n", "one line"},
        BadCase{"blank_line", "\n", "expected 2 fields"},
        BadCase{"nul_byte", std::string_view("1.00\0 2.00\n", 11), "bad uptime"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- /proc/loadavg

TEST(ParseLoadavg, SeedExample) {
  auto r = parse_loadavg("1.62 1.83 2.25 2/3479 12345\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_DOUBLE_EQ(r->load1, 1.62);
  EXPECT_DOUBLE_EQ(r->load5, 1.83);
  EXPECT_DOUBLE_EQ(r->load15, 2.25);
  EXPECT_EQ(r->threads_running, 2u);
  EXPECT_EQ(r->threads_total, 3479u);
  EXPECT_EQ(r->last_pid, 12345u);
}

TEST(ParseLoadavg, CapturedFixture) {
  auto r = parse_loadavg(fixture("vm-2cpu-psi", "loadavg"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_DOUBLE_EQ(r->load1, 0.90);
  EXPECT_EQ(r->threads_total, 91u);
}

class ParseLoadavgBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseLoadavgBad, Rejected) {
  auto r = parse_loadavg(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(GetParam().reason_contains), std::string::npos)
      << r.error().message();
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseLoadavgBad,
    testing::Values(BadCase{"empty", "", "empty"},
                    BadCase{"truncated", "1.62 1.83 2.25 2/34", "truncated"},
                    BadCase{"four_fields", "1.62 1.83 2.25 2/3479\n", "expected 5 fields"},
                    BadCase{"six_fields", "1.62 1.83 2.25 2/3479 1 2\n", "expected 5 fields"},
                    BadCase{"no_slash", "1.62 1.83 2.25 2-3479 1\n", "running/total"},
                    BadCase{"empty_total", "1.62 1.83 2.25 2/ 1\n", "running/total"},
                    BadCase{"empty_running", "1.62 1.83 2.25 /3 1\n", "running/total"},
                    BadCase{"bad_load5", "1.62 x 2.25 2/3 1\n", "bad load5"},
                    BadCase{"inf_load15", "1.62 1.83 inf 2/3 1\n", "bad load15"},
                    BadCase{"nan_load1", "nan nan nan 1/2 3\n", "bad load1"},
                    BadCase{"negative_pid", "1.62 1.83 2.25 2/3 -1\n", "bad last pid"},
                    BadCase{"overflow", "1.62 1.83 2.25 99999999999999999999/3 1\n",
                            "running/total"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- /proc/stat

TEST(ParseStat, CapturedFixture) {
  auto r = parse_stat(fixture("vm-2cpu-psi", "stat"), 100);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->total.jiffies[0], 11452u);  // cpu  11452 0 8440 194402 1383 0 358 0 0 0
  EXPECT_EQ(r->total.jiffies[static_cast<int>(CpuMode::kIdle)], 194402u);
  EXPECT_DOUBLE_EQ(r->total.seconds[static_cast<int>(CpuMode::kSystem)], 84.40);
  ASSERT_EQ(r->cpus.size(), 2u);
  EXPECT_EQ(r->cpus[1].cpu, 1u);
  EXPECT_EQ(r->cpus[1].times.jiffies[0], 6971u);
  EXPECT_EQ(r->boot_time, 1795437402u);
  EXPECT_GT(r->context_switches, 0u);
  EXPECT_GT(r->forks, 0u);
  EXPECT_EQ(r->procs_running, 1u);
  EXPECT_EQ(r->interrupts, 483338u);  // intr 483338 0 0 ...: the total only
}

TEST(ParseStat, IntrIsOptionalButChecked) {
  const std::string base =
      "cpu  1 0 1 1 0 0 0 0 0 0\nbtime 1\nctxt 1\nprocesses 1\nprocs_running 1\n"
      "procs_blocked 0\n";
  auto without = parse_stat(base, 100);
  ASSERT_TRUE(without) << without.error().message();
  EXPECT_FALSE(without->interrupts);  // not invented
  auto bad = parse_stat(base + "intr x 1 2\n", 100);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("bad value for intr"), std::string::npos);
  auto twice = parse_stat(base + "intr 5 1\nintr 6 1\n", 100);
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("duplicate intr"), std::string::npos);
}

TEST(ParseStat, ManyCpusAndGuest) {
  auto r = parse_stat(fixture("server-64cpu-psi", "stat"), 100);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->cpus.size(), 64u);
  for (std::size_t m = 0; m < kCpuModeCount; ++m) {
    std::uint64_t sum = 0;
    for (const auto& c : r->cpus) sum += c.times.jiffies[m];
    EXPECT_EQ(sum, r->total.jiffies[m]) << cpu_mode_name(m);
  }
  EXPECT_GT(r->total.jiffies[static_cast<int>(CpuMode::kGuest)], 0u);
  EXPECT_EQ(r->context_switches, 9876543210u);
  EXPECT_EQ(r->procs_blocked, 1u);
}

TEST(ParseStat, ClockTicksAreAParameter) {
  const std::string text =
      "cpu  250 0 0 0 0 0 0 0 0 0\nbtime 1\nctxt 2\nprocesses 3\nprocs_running 4\n"
      "procs_blocked 5\n";
  EXPECT_DOUBLE_EQ(parse_stat(text, 100)->total.seconds[0], 2.5);
  EXPECT_DOUBLE_EQ(parse_stat(text, 250)->total.seconds[0], 1.0);
  // Exactly the double nearest to the decimal value, so it prints without noise.
  auto r = parse_stat(
      "cpu  174509 0 0 0 0 0 0 0 0 0\nbtime 1\nctxt 2\nprocesses 3\nprocs_running 4\n"
      "procs_blocked 5\n",
      100);
  EXPECT_EQ(r->total.seconds[0], 1745.09);
  EXPECT_FALSE(parse_stat(text, 0));
  EXPECT_FALSE(parse_stat(text, -100));
}

TEST(ParseStat, GapsInCpuIndexesAreKept) {  // offline cpus have no line
  auto r = parse_stat(
      "cpu  2 0 0 0 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\ncpu3 1 0 0 0 0 0 0 0 0 0\n"
      "btime 1\nctxt 2\nprocesses 3\nprocs_running 4\nprocs_blocked 5\n",
      100);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->cpus.size(), 2u);
  EXPECT_EQ(r->cpus[1].cpu, 3u);
}

TEST(ParseStat, ExtraColumnsAndUnknownKeysAreIgnored) {
  auto r = parse_stat(
      "cpu  1 2 3 4 5 6 7 8 9 10 11\nnewkey 1 2\nbtime 1\nctxt 2\nprocesses 3\n"
      "procs_running 4\nprocs_blocked 5\n",
      100);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->total.jiffies[9], 10u);
}

constexpr std::string_view kStatTail =
    "btime 1\nctxt 2\nprocesses 3\nprocs_running 4\nprocs_blocked 5\n";

class ParseStatBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseStatBad, Rejected) {
  auto r = parse_stat(GetParam().input, 100);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(GetParam().reason_contains), std::string::npos)
      << r.error().message();
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseStatBad,
    testing::Values(
        BadCase{"empty", "", "empty"},
        BadCase{"truncated", "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3", "truncated"},
        BadCase{"no_aggregate",
                "cpu0 1 2 3 4 5 6 7 8 9 10\nbtime 1\nctxt 2\nprocesses 3\nprocs_running 4\n"
                "procs_blocked 5\n",
                "missing aggregate"},
        BadCase{"nine_columns",
                "cpu  1 2 3 4 5 6 7 8 9\nbtime 1\nctxt 2\nprocesses 3\nprocs_running 4\n"
                "procs_blocked 5\n",
                "line 1: expected 10 cpu time fields, got 9"},
        BadCase{"negative_counter", "cpu  -1 0 0 0 0 0 0 0 0 0\n", "bad cpu time \"-1\""},
        BadCase{"word_counter", "cpu  1 2 x 4 5 6 7 8 9 10\n", "bad cpu time"},
        BadCase{"overflow", "cpu  99999999999999999999 0 0 0 0 0 0 0 0 0\n", "bad cpu time"},
        BadCase{"bad_cpu_key", "cpu  1 2 3 4 5 6 7 8 9 10\ncpuX 1 2 3 4 5 6 7 8 9 10\n",
                "bad cpu line key"},
        BadCase{"duplicate_cpu",
                "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
                "cpu0 1 2 3 4 5 6 7 8 9 10\n",
                "out of order or duplicated"},
        BadCase{"duplicate_aggregate", "cpu  1 2 3 4 5 6 7 8 9 10\ncpu  1 2 3 4 5 6 7 8 9 10\n",
                "duplicate aggregate"},
        BadCase{"missing_btime",
                "cpu  1 2 3 4 5 6 7 8 9 10\nctxt 2\nprocesses 3\nprocs_running 4\n"
                "procs_blocked 5\n",
                "missing btime"},
        BadCase{"missing_procs_blocked",
                "cpu  1 2 3 4 5 6 7 8 9 10\nbtime 1\nctxt 2\nprocesses 3\nprocs_running 4\n",
                "missing procs_blocked"},
        BadCase{"bad_btime", "cpu  1 2 3 4 5 6 7 8 9 10\nbtime soon\n", "bad value for btime"},
        BadCase{"btime_extra", "cpu  1 2 3 4 5 6 7 8 9 10\nbtime 1 2\n", "bad value for btime"},
        BadCase{"duplicate_ctxt", "cpu  1 2 3 4 5 6 7 8 9 10\nctxt 1\nctxt 2\n", "duplicate ctxt"},
        BadCase{"empty_line", "cpu  1 2 3 4 5 6 7 8 9 10\n\nbtime 1\n", "line 2: empty line"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- /proc/meminfo

TEST(ParseMeminfo, CapturedFixtureInBytes) {
  auto r = parse_meminfo(fixture("vm-2cpu-psi", "meminfo"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r->mem_total, 24683620ull * 1024);
  ASSERT_TRUE(r->mem_available);
  ASSERT_TRUE(r->buffers);
  ASSERT_TRUE(r->cached);
  EXPECT_EQ(*r->swap_total, 0u);
  EXPECT_EQ(*r->swap_free, 0u);
}

TEST(ParseMeminfo, EveryLineIsKeptInFileOrder) {
  auto r = parse_meminfo(fixture("vm-2cpu-psi", "meminfo"));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->lines.size(), 53u);  // one per line of the file
  EXPECT_EQ(r->lines[0].key, "MemTotal");
  EXPECT_EQ(r->lines[0].value, 24683620ull * 1024);
  EXPECT_TRUE(r->lines[0].bytes);
  bool saw_anon = false, saw_pages = false;
  for (const auto& line : r->lines) {
    if (line.key == "Active(anon)") saw_anon = line.bytes;
    if (line.key == "HugePages_Total") saw_pages = !line.bytes && line.value == 0;
  }
  EXPECT_TRUE(saw_anon);
  EXPECT_TRUE(saw_pages) << "a count without kB stays a count";
}

TEST(ParseMeminfo, KeysThatCannotBeMetricNamesAreLeftOut) {
  auto r = parse_meminfo(
      "MemTotal: 1 kB\nMemFree: 1 kB\nBad Key: 1 kB\nx\"}{: 2 kB\nA(b)(c): 3\nA(b: 4\n"
      "(x): 5\n9lives: 6\nOk_(fine): 7 kB\n");
  ASSERT_TRUE(r) << r.error().message();
  std::vector<std::string> keys;
  for (const auto& line : r->lines) keys.push_back(line.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"MemTotal", "MemFree", "Ok_(fine)"}));
}

TEST(ParseMeminfo, ABloatedFileIsRefused) {
  std::string text = "MemTotal: 1 kB\nMemFree: 1 kB\n";
  for (std::size_t i = 0; i < kMaxMeminfoLines; ++i) text += "F" + std::to_string(i) + ": 1\n";
  auto r = parse_meminfo(text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("more than 256 fields"), std::string::npos)
      << r.error().message();
}

TEST(ParseMeminfo, OnlyRequiredFields) {
  auto r = parse_meminfo("MemTotal:  100 kB\nMemFree:  50 kB\nHugePages_Total:  0\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r->mem_total, 102400u);
  EXPECT_FALSE(r->mem_available);  // not invented
  EXPECT_FALSE(r->swap_total);
}

class ParseMeminfoBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseMeminfoBad, Rejected) {
  auto r = parse_meminfo(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(GetParam().reason_contains), std::string::npos)
      << r.error().message();
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseMeminfoBad,
    testing::Values(BadCase{"empty", "", "empty"},
                    BadCase{"truncated", "MemTotal:  100 kB\nMemFree:  5", "truncated"},
                    BadCase{"cut_at_line_boundary", "MemTotal:  100 kB\n", "missing MemFree"},
                    BadCase{"no_total", "MemFree:  50 kB\n", "missing MemTotal"},
                    BadCase{"no_colon", "MemTotal 100 kB\n", "line 1: expected"},
                    BadCase{"empty_key", ": 100 kB\n", "line 1: expected"},
                    BadCase{"word_value", "MemTotal: lots kB\nMemFree: 1 kB\n",
                            "bad value \"lots\""},
                    BadCase{"negative", "MemTotal: -5 kB\n", "bad value"},
                    BadCase{"wrong_unit", "MemTotal: 100 MB\n", "unexpected text"},
                    BadCase{"trailing_text", "MemTotal: 100 kB extra\n", "unexpected text"},
                    BadCase{"missing_unit", "MemTotal: 100\nMemFree: 1 kB\n", "has no kB unit"},
                    BadCase{"overflow", "MemTotal: 18446744073709551615 kB\n", "overflows"},
                    BadCase{"duplicate", "MemTotal: 1 kB\nMemTotal: 2 kB\n", "duplicate"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- /proc/pressure/*

TEST(ParsePressure, SomeAndFull) {
  auto r = parse_pressure(
      "some avg10=0.00 avg60=1.45 avg300=1.99 total=10870721\n"
      "full avg10=0.00 avg60=1.43 avg300=1.97 total=10642992\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_DOUBLE_EQ(r->some.avg60, 1.45);
  EXPECT_EQ(r->some.total_us, 10870721u);
  ASSERT_TRUE(r->full);
  EXPECT_DOUBLE_EQ(r->full->avg300, 1.97);
}

TEST(ParsePressure, OldKernelCpuHasOnlySome) {
  auto r = parse_pressure("some avg10=6.05 avg60=2.52 avg300=0.91 total=6769170\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->full);
}

TEST(ParsePressure, CapturedFixtures) {
  for (const char* res : {"cpu", "memory", "io"}) {
    auto r = parse_pressure(fixture("vm-2cpu-psi", std::string("pressure/") + res));
    ASSERT_TRUE(r) << res << ": " << r.error().message();
    EXPECT_TRUE(r->full) << res;
  }
}

class ParsePressureBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParsePressureBad, Rejected) {
  auto r = parse_pressure(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(GetParam().reason_contains), std::string::npos)
      << r.error().message();
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParsePressureBad,
    testing::Values(
        BadCase{"empty", "", "empty"},
        BadCase{"truncated", "some avg10=6.05 avg60=2.5", "truncated"},
        BadCase{"full_first", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                "expected \"some\""},
        BadCase{"missing_total", "some avg10=0.00 avg60=0.00 avg300=0.00\n", "expected total="},
        BadCase{"wrong_order", "some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n",
                "expected avg10="},
        BadCase{"bad_avg", "some avg10=1.00 avg60=x avg300=0.00 total=0\n", "bad number \"x\""},
        BadCase{"bad_total", "some avg10=1.00 avg60=1.00 avg300=0.00 total=-1\n", "bad number"},
        BadCase{"trailing", "some avg10=1.00 avg60=1.00 avg300=0.00 total=1 x\n", "trailing"},
        BadCase{"second_not_full",
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                "line 2: expected \"full\""},
        BadCase{"three_lines",
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull\n",
                "extra line"},
        BadCase{"binary", std::string_view("\x00\xff\xfe binary\n", 11), "expected \"some\""}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- /proc/sys/kernel/osrelease

TEST(ParseOsrelease, Trims) {
  auto r = parse_osrelease("6.1.0-18-amd64\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "6.1.0-18-amd64");
}

TEST(ParseOsrelease, Rejects) {
  EXPECT_FALSE(parse_osrelease(""));
  EXPECT_FALSE(parse_osrelease("6.1"));  // no newline: truncated
  EXPECT_FALSE(parse_osrelease(" \n"));
  EXPECT_FALSE(parse_osrelease("6.1\x01junk\n"));
  EXPECT_FALSE(parse_osrelease("6.1 extra\n"));
}

// ---- sysfs index lists (devices/system/node/online, devices/system/cpu/online)

TEST(ParseIndexList, CountsIndexesAndRanges) {
  const std::pair<const char*, std::uint32_t> cases[] = {
      {"0\n", 1}, {"0-1\n", 2}, {"0-63\n", 64}, {"0-3,8,10-11\n", 7},
      {"\n", 0},  {"5-5\n", 1}, {"0,2,4\n", 3}};
  for (const auto& [text, count] : cases) {
    auto r = parse_index_list(text);
    ASSERT_TRUE(r) << text << r.error().detail;
    EXPECT_EQ(*r, count) << text;
  }
}

TEST(ParseIndexList, RejectsWhatTheKernelNeverPrints) {
  for (const char* bad : {"", "0", "0-\n", "-1\n", "1-0\n", "0,,1\n", "0,\n", ",0\n", "0 1\n",
                          "a\n", "0-1-2\n", "3,1\n", "0-3,2\n", "99999999999\n", "0\n\n"}) {
    EXPECT_FALSE(parse_index_list(bad)) << '"' << bad << '"';
  }
  EXPECT_EQ(parse_index_list("1-0\n").error().detail, "bad item \"1-0\" in index list");
}

// Every parser reports the one error shape: kind kMalformed, the reason as the detail, and a
// message() of "malformed: <reason>".
TEST(ParseErrors, AreMalformedWithTheReasonAsDetail) {
  const std::vector<Error> errors = {
      parse_uptime("").error(),           parse_loadavg("1\n").error(),
      parse_stat("cpu 1\n", 100).error(), parse_stat("", 0).error(),
      parse_meminfo("x\n").error(),       parse_pressure("full\n").error(),
      parse_osrelease("\n").error(),      parse_index_list("1-0\n").error(),
  };
  for (const Error& e : errors) {
    EXPECT_EQ(e.code, Errc::kMalformed) << e.message();
    EXPECT_FALSE(e.detail.empty());
    EXPECT_EQ(e.message(), "malformed: " + e.detail);
  }
  EXPECT_EQ(parse_uptime("").error().detail, "empty input");
  EXPECT_EQ(parse_stat("", 0).error().detail, "clock ticks per second must be positive");
  EXPECT_EQ(parse_pressure("full\n").error().detail, "line 1: expected \"some\"");
}

// ---- robustness: every prefix and random corruptions of real files, with views that stop
// before the end of their buffer (ASan builds catch any read past the view).

TEST(ParseRobustness, PrefixesAreRejectedOrParsedNeverCrash) {
  const std::string host = "server-64cpu-psi";
  for (const char* rel : {"uptime", "loadavg", "stat", "meminfo", "pressure/io"}) {
    const std::string full = fixture(host, rel);
    ASSERT_FALSE(full.empty()) << rel;
    for (std::size_t n = 0; n < full.size(); ++n) {
      // A heap copy of exactly n bytes: nothing valid lies beyond the view.
      const std::vector<char> buf(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      const std::string_view view(buf.data(), buf.size());
      const bool ends_line = n > 0 && view.back() == '\n';
      bool ok = false;
      if (std::string_view(rel) == "uptime") ok = bool(parse_uptime(view));
      if (std::string_view(rel) == "loadavg") ok = bool(parse_loadavg(view));
      if (std::string_view(rel) == "stat") ok = bool(parse_stat(view, 100));
      if (std::string_view(rel) == "meminfo") ok = bool(parse_meminfo(view));
      if (std::string_view(rel) == "pressure/io") ok = bool(parse_pressure(view));
      if (!ends_line) {
        EXPECT_FALSE(ok) << rel << " prefix " << n;
      }
    }
  }
}

TEST(ParseRobustness, RandomCorruptionNeverCrashes) {
  std::mt19937 rng(12345);  // fixed seed: reproducible
  const std::string stat = fixture("vm-2cpu-psi", "stat");
  const std::string meminfo = fixture("vm-2cpu-psi", "meminfo");
  const std::string pressure = fixture("vm-2cpu-psi", "pressure/memory");
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    for (const std::string* src : {&stat, &meminfo, &pressure}) {
      std::string s = *src;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) s[rng() % s.size()] = static_cast<char>(rng() % 256);
      const bool ok = src == &stat      ? bool(parse_stat(s, 100))
                      : src == &meminfo ? bool(parse_meminfo(s))
                                        : bool(parse_pressure(s));
      rejected += ok ? 0 : 1;
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(CpuModeName, AllModes) {
  EXPECT_EQ(cpu_mode_name(CpuMode::kUser), "user");
  EXPECT_EQ(cpu_mode_name(CpuMode::kSoftirq), "softirq");
  EXPECT_EQ(cpu_mode_name(CpuMode::kGuestNice), "guest_nice");
  EXPECT_EQ(cpu_mode_name(std::size_t{3}), "idle");
}

}  // namespace
}  // namespace nodeagent::nodeinfo

namespace nodeagent::nodeinfo {
namespace {

// A root may point the parser at a file that is not what it expects (a key, a config file):
// the reason quotes a short sanitised excerpt, never the file.
TEST(ParseErrors, QuoteAShortSanitisedExcerptOnly) {
  const std::string secret =
      "-----BEGIN\x1b[2J\r\"PRIVATE\\KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAAS";
  const std::vector<std::string> reasons = {
      parse_loadavg(secret + " 1 1 1/1 1\n").error().detail,
      parse_uptime(secret + " 1\n").error().detail,
      parse_meminfo("MemTotal: " + secret + " kB\n").error().detail,
      parse_osrelease(secret + "\n").error().detail,
  };
  for (const std::string& reason : reasons) {
    const auto open = reason.find('"');
    ASSERT_NE(open, std::string::npos) << reason;
    const auto close = reason.find('"', open + 1);
    ASSERT_NE(close, std::string::npos) << reason;
    const std::string excerpt = reason.substr(open + 1, close - open - 1);
    EXPECT_LE(excerpt.size(), kMaxExcerpt + 3) << reason;  // + "..."
    EXPECT_EQ(excerpt.find("PRIVATE"), std::string::npos) << reason;
    for (char c : reason) {
      const auto u = static_cast<unsigned char>(c);
      EXPECT_TRUE(u >= 0x20 && u < 0x7f) << "control byte " << int(u) << " in " << reason;
      EXPECT_NE(c, '\\') << reason;
    }
    EXPECT_EQ(reason.find('"', close + 1), std::string::npos) << "a forged quote in " << reason;
  }
}

TEST(Tokens, ToU64TakesPlainDigitsThatFit64Bits) {
  std::uint64_t n = 7;
  EXPECT_TRUE(to_u64("18446744073709551615", n));
  EXPECT_EQ(n, 18446744073709551615u);
  EXPECT_TRUE(to_u64("007", n));
  EXPECT_EQ(n, 7u);
  n = 42;
  for (std::string_view bad : {"18446744073709551616", "99999999999999999999", "", "-1", "+1", " 1",
                               "1 ", "1.0", "0x1", "1a", "\xb1"}) {
    EXPECT_FALSE(to_u64(bad, n)) << bad;
    EXPECT_EQ(n, 42u) << bad;  // a refused token leaves the output alone
  }
}

}  // namespace
}  // namespace nodeagent::nodeinfo
