#include "agent/self_proc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace nodeagent::agent {
namespace {

using namespace std::string_literals;

TEST(ParseStatm, ReadsTheSevenCounts) {
  auto r = parse_statm("5373 1207 873 214 0 389 0\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->size_pages, 5373u);
  EXPECT_EQ(r->resident_pages, 1207u);
  EXPECT_EQ(r->shared_pages, 873u);
  EXPECT_EQ(r->text_pages, 214u);
  EXPECT_EQ(r->lib_pages, 0u);
  EXPECT_EQ(r->data_pages, 389u);
  EXPECT_EQ(r->dirty_pages, 0u);
  // Blanks around and between fields are the kernel's business; they are accepted.
  ASSERT_TRUE(parse_statm("1  2 3 4 5 6 7 \n"));
  ASSERT_TRUE(parse_statm("18446744073709551615 1 1 1 1 1 1\n"));
}

struct BadInput {
  std::string text;
  std::string reason;  // a part of the error's detail
};

class ParseStatmRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(ParseStatmRejects, WithAReason) {
  auto r = parse_statm(GetParam().text);
  ASSERT_FALSE(r) << "accepted " << GetParam().text;
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_NE(r.error().detail.find(GetParam().reason), std::string::npos) << r.error().detail;
  // One safe line however hostile the input.
  for (char c : r.error().detail) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(static_cast<unsigned char>(c));
  }
  EXPECT_LE(r.error().detail.size(), 80u);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseStatmRejects,
    ::testing::Values(
        BadInput{"", "empty"}, BadInput{"5373 1207 873 214 0 389 0", "truncated"},  // no newline
        BadInput{"5373 1207\n", "expected 7 fields, got 2"}, BadInput{"\n", "got 0"},
        BadInput{"1 2 3 4 5 6 7 8\n", "more than 7 fields"},
        BadInput{"1 2 3 4 5 6 7\n1 2 3 4 5 6 7\n", "more than one line"},
        BadInput{"5373 -1207 873 214 0 389 0\n", "field 2 is not a count: \"-1207\""},
        BadInput{"5373 1e3 873 214 0 389 0\n", "field 2"},
        BadInput{"5373 18446744073709551616 1 1 1 1 1\n", "field 2"},  // 2^64
        BadInput{"banana\n", "field 1 is not a count: \"banana\""},
        BadInput{"1 \x1b[31mred\x07 3 4 5 6 7\n", "field 2 is not a count: \"?[31mred?\""},
        BadInput{"1 2\0 3 4 5 6 7\n"s, "field 2 is not a count: \"2?\""},
        BadInput{"1 " + std::string(5000, 'A') + " 3 4 5 6 7\n", "\"AAAAAAAAAAAAAAAA...\""}));

constexpr std::string_view kStatus =
    "Name:\tnode-agent\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t4242\n"
    "VmRSS:\t    4828 kB\n"
    "Threads:\t3\n"
    "SigQ:\t0/62869\n"
    "voluntary_ctxt_switches:\t5\n";

TEST(ParseStatusThreads, FindsTheThreadsLine) {
  auto r = parse_status_threads(kStatus);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 3u);
  EXPECT_EQ(*parse_status_threads("Threads:\t1\n"), 1u);
  EXPECT_EQ(*parse_status_threads("Threads: 4294967295 \n"), 4294967295u);
  // A name that merely contains the key is not the line (the kernel escapes '\n' in Name).
  EXPECT_EQ(*parse_status_threads("Name:\tThreads:\t9\nThreads:\t2\n"), 2u);
  // A truncated line after the Threads line does not matter.
  EXPECT_EQ(*parse_status_threads("Threads:\t2\nSigQ:\t0/6"), 2u);
}

class ParseStatusThreadsRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(ParseStatusThreadsRejects, WithAReason) {
  auto r = parse_status_threads(GetParam().text);
  ASSERT_FALSE(r) << "accepted " << GetParam().text;
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_NE(r.error().detail.find(GetParam().reason), std::string::npos) << r.error().detail;
  for (char c : r.error().detail) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(static_cast<unsigned char>(c));
  }
  EXPECT_LE(r.error().detail.size(), 80u);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseStatusThreadsRejects,
    ::testing::Values(
        BadInput{"", "no Threads line"},
        BadInput{"Name:\tnode-agent\nUmask:\t0022\n", "no Threads"},
        BadInput{"Name:\tx\nThreads:\t3", "line 2: Threads truncated"},  // cut inside the line
        BadInput{"Threads:\n", "not a count"}, BadInput{"Threads:\t\n", "not a count"},
        BadInput{"Threads:\t0\n", "out of range"},
        BadInput{"Threads:\t4294967296\n", "out of range"},
        BadInput{"Threads:\t-3\n", "not a count: \"?-3\""},
        BadInput{"Threads:\t3 4\n", "not a count"}, BadInput{"Threads:\t3kB\n", "not a count"},
        BadInput{"Threads:\t3\nThreads:\t4\n", "line 2: a second Threads line"},
        BadInput{"Threads:\t\x1b]0;pwned\x07\n", "not a count: \"??]0;pwned?\""},
        BadInput{"Threads:\t\xff\xfe\n", "not a count: \"???\""},
        BadInput{"Threads:\t"s + std::string(1000, '9') + "\n", "Threads is not a count"},
        BadInput{"Threads:\t1\0\n"s, "not a count"}));

// The parsers read what open_self_proc() gives: this process's own files.
TEST(OpenSelfProc, FeedsTheParsers) {
  auto self = open_self_proc();
  ASSERT_TRUE(self) << self.error().message();
  EXPECT_EQ(self->path(), kSelfProc);
  auto status = self->read_file("status");
  ASSERT_TRUE(status) << status.error().message();
  auto threads = parse_status_threads(*status);
  ASSERT_TRUE(threads) << threads.error().message();
  EXPECT_GE(*threads, 1u);
  auto statm = self->read_file("statm");
  ASSERT_TRUE(statm) << statm.error().message();
  auto parsed = parse_statm(*statm);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_GT(parsed->resident_pages, 0u);
}

TEST(OpenSelfProc, ErrorsCarryErrnoAndPath) {
  auto self = open_self_proc();
  ASSERT_TRUE(self);
  auto missing = self->read_file("no-such-file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, boost::system::errc::no_such_file_or_directory);
  EXPECT_EQ(missing.error().detail, "/proc/self/no-such-file");
  auto dir = self->read_file("fd");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, boost::system::errc::is_a_directory);
  // Magic links (fd/*, exe, cwd) are not followed, so nothing outside /proc/self is read.
  EXPECT_FALSE(self->read_file("exe"));
  EXPECT_FALSE(self->read_file("../1/status"));
}

}  // namespace
}  // namespace nodeagent::agent
