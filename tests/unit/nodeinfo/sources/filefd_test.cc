#include "nodeinfo/sources/filefd.h"

#include <gtest/gtest.h>

#include <string>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;

// ---- parse_file_nr

TEST(ParseFileNr, KernelLine) {
  auto r = parse_file_nr("422\t0\t2466116\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->allocated, 422u);
  EXPECT_EQ(r->unused, 0u);
  EXPECT_EQ(r->maximum, 2466116u);
}

TEST(ParseFileNr, HugeMaximum) {
  // fs.file-max defaults to LONG_MAX on some distributions (systemd sets it that high).
  auto r = parse_file_nr("1344\t0\t9223372036854775807\n");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->maximum, 9223372036854775807u);
}

struct BadCase {
  const char* name;
  std::string input;
  const char* reason;
};
std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

class ParseFileNrBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseFileNrBad, Rejected) {
  auto r = parse_file_nr(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().detail, GetParam().reason);
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseFileNrBad,
    testing::Values(BadCase{"empty", "", "empty input"},
                    BadCase{"no_newline", "422\t0\t2466116",
                            "truncated input (no trailing newline)"},
                    BadCase{"cut", "422\t0\t24", "truncated input (no trailing newline)"},
                    BadCase{"two_fields", "422\t0\n", "missing maximum"},
                    BadCase{"blank", "\n", "missing allocated"},
                    BadCase{"four_fields", "422\t0\t2466116\t9\n", "unexpected text after maximum"},
                    BadCase{"two_lines", "422\t0\t2466116\n1\t0\t2\n", "expected one line"},
                    BadCase{"word", "many\t0\t2466116\n", "bad allocated \"many\""},
                    BadCase{"negative", "422\t-1\t2466116\n", "bad unused \"-1\""},
                    BadCase{"overflow", "1\t0\t99999999999999999999\n",
                            "bad maximum \"9999999999999999...\""}));

// ---- the source

TEST(FilefdSource, CapturedHost) {
  SourceHost host(fixture_host("vm-2cpu-psi"));
  auto source = host.make("filefd");
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.families.families().size(), 2u);
  EXPECT_EQ(value_of(s, "node_filefd_allocated"), 422);
  EXPECT_EQ(value_of(s, "node_filefd_maximum"), 2466116);
  EXPECT_EQ(s.families.find("node_filefd_allocated")->type, metrics::Type::kGauge);
  EXPECT_EQ(s.families.find("node_filefd_maximum")->type, metrics::Type::kGauge);
}

TEST(FilefdSource, MissingFileIsReported) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "proc");
  std::filesystem::create_directories(dir.path() / "sys");
  SourceHost host(dir.path());
  auto source = host.make("filefd");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.families.families().empty());
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0],
            (dir.path() / "proc/sys/fs/file-nr").string() + ": No such file or directory");
}

TEST(FilefdSource, MalformedFileIsReported) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sys");
  write_file(dir.path() / "proc/sys/fs/file-nr", "422\t0\n");
  SourceHost host(dir.path());
  auto source = host.make("filefd");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.families.families().empty());
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0],
            (dir.path() / "proc/sys/fs/file-nr").string() + ": malformed: missing maximum");
}

}  // namespace
}  // namespace nodeagent::nodeinfo
