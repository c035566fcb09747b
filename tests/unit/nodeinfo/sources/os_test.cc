// The os source: the os-release parser (table), the version number, and the source on host
// trees (the relative /etc -> /usr/lib link, the fallback, the minute between reads).
#include "nodeinfo/sources/os.h"

#include <gtest/gtest.h>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;
using namespace std::chrono_literals;

struct ValueCase {
  const char* name;
  std::string text;
  const char* key;
  const char* want;
};

TEST(ParseOsRelease, Values) {
  const ValueCase cases[] = {
      {"double quotes", "NAME=\"Debian GNU/Linux\"\n", "NAME", "Debian GNU/Linux"},
      {"single quotes", "NAME='Arch Linux'\n", "NAME", "Arch Linux"},
      {"unquoted", "ID=debian\n", "ID", "debian"},
      {"empty", "VARIANT=\n", "VARIANT", ""},
      {"empty quotes", "VARIANT=\"\"\n", "VARIANT", ""},
      {"escapes in double quotes",
       R"(X="a \"b\" \\ \$c \`d\` \n")"
       "\n",
       "X", R"(a "b" \ $c `d` \n)"},
      {"no escapes in single quotes",
       R"(X='a \"b\\ $c')"
       "\n",
       "X", R"(a \"b\\ $c)"},
      {"backslash unquoted",
       R"(X=a\ b\"c)"
       "\n",
       "X", R"(a b"c)"},
      {"parts side by side",
       R"(X="a"'b'c)"
       "\n",
       "X", "abc"},
      {"comment after value", "ID=debian # the id\n", "ID", "debian"},
      {"blanks around the line", "  ID=debian  \n", "ID", "debian"},
      {"crlf", "ID=debian\r\n", "ID", "debian"},
      {"no final newline", "ID=debian", "ID", "debian"},
      {"hash inside a value", "URL=\"https://x/#a\"\n", "URL", "https://x/#a"},
      {"equals inside a value", "X=a=b\n", "X", "a=b"},
      {"later duplicate wins", "ID=one\nID=two\n", "ID", "two"},
      {"comments and blank lines", "# c\n\n   \n\t# indented\nID=fedora\n", "ID", "fedora"},
      {"missing key reads empty", "ID=x\n", "VERSION_ID", ""},
  };
  for (const ValueCase& c : cases) {
    auto r = parse_os_release(c.text);
    ASSERT_TRUE(r) << c.name << ": " << r.error().detail;
    EXPECT_EQ(r->get(c.key), c.want) << c.name;
  }
}

struct BadCase {
  const char* name;
  std::string text;
  const char* reason;
};

TEST(ParseOsRelease, Rejects) {
  const BadCase cases[] = {
      {"no equals", "ID=x\njust words\n", "line 2: expected KEY=value"},
      {"key starting with a digit", "1X=a\n", "line 1: bad key"},
      {"blank before equals", "ID =x\n", "line 1: bad key"},
      {"empty key", "=x\n", "line 1: bad key"},
      {"unterminated double quote", "NAME=\"Debian\nID=x\n", "line 1: unterminated double quote"},
      {"unterminated single quote", "NAME='Debian\n", "line 1: unterminated single quote"},
      {"text after the value", "NAME=Debian GNU\n", "line 1: text after the value"},
      {"too large", "X=" + std::string(kMaxOsReleaseSize, 'a') + "\n", "larger than 64 KiB"},
  };
  for (const BadCase& c : cases) {
    auto r = parse_os_release(c.text);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, Errc::kMalformed) << c.name;
    EXPECT_NE(r.error().detail.find(c.reason), std::string::npos)
        << c.name << ": " << r.error().detail;
  }
}

TEST(OsVersionNumber, LeadingNumber) {
  EXPECT_EQ(os_version_number("12"), 12.0);
  EXPECT_EQ(os_version_number("22.04"), 22.04);
  EXPECT_EQ(os_version_number("9.3.2"), 9.3);
  EXPECT_EQ(os_version_number("2.1.x"), 2.1);
  EXPECT_EQ(os_version_number("39-beta"), 39.0);
  EXPECT_EQ(os_version_number("7."), 7.0);
  EXPECT_EQ(os_version_number("0"), 0.0);
  EXPECT_FALSE(os_version_number(""));
  EXPECT_FALSE(os_version_number("rolling"));
  EXPECT_FALSE(os_version_number(".5"));
  EXPECT_FALSE(os_version_number("-1"));
  EXPECT_FALSE(os_version_number(std::string(400, '9')));  // beyond a double
}

std::string info_labels(std::string_view id, std::string_view name, std::string_view pretty,
                        std::string_view version, std::string_view codename,
                        std::string_view version_id) {
  return metrics::labels({{"build_id", ""},
                          {"id", id},
                          {"id_like", ""},
                          {"image_id", ""},
                          {"image_version", ""},
                          {"name", name},
                          {"pretty_name", pretty},
                          {"variant", ""},
                          {"variant_id", ""},
                          {"version", version},
                          {"version_codename", codename},
                          {"version_id", version_id}});
}

// A host with sys/ and proc/ (the roots HostFs needs) and root/.
class OsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_.path() / "proc/uptime", "1 1\n");
    std::filesystem::create_directories(dir_.path() / "sys");
    std::filesystem::create_directories(dir_.path() / "root");
  }
  std::filesystem::path root() const { return dir_.path() / "root"; }

  TempDir dir_;
};

TEST(OsSource, FixtureHostThroughTheRelativeLink) {
  ASSERT_TRUE(std::filesystem::is_symlink(fixture_host("k8s-node-nvme") / "root/etc/os-release"));
  SourceHost host(fixture_host("k8s-node-nvme"));
  auto source = host.make("os");
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty()) << ::testing::PrintToString(s.errors);
  EXPECT_EQ(value_of(s, "node_os_info",
                     info_labels("debian", "Debian GNU/Linux", "Debian GNU/Linux 12 (bookworm)",
                                 "12 (bookworm)", "bookworm", "12")),
            1);
  EXPECT_EQ(
      value_of(s, "node_os_version",
               metrics::labels({{"id", "debian"}, {"id_like", ""}, {"name", "Debian GNU/Linux"}})),
      12);
  EXPECT_EQ(s.os_pretty_name, "Debian GNU/Linux 12 (bookworm)");
}

TEST_F(OsSourceTest, NeedsRootfs) {
  std::filesystem::remove_all(root());
  SourceHost host(dir_.path());
  for (const SourceInfo& info : all_sources()) {
    if (info.name != "os") continue;
    auto made = info.make(host.options());
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, Errc::kUnavailable);
    EXPECT_EQ(made.error().detail, "needs --rootfs (the host's / mounted read-only)");
    return;
  }
  ADD_FAILURE() << "os is not in the registry";
}

TEST_F(OsSourceTest, UsrLibWhenEtcHasNone) {
  write_file(root() / "usr/lib/os-release",
             "ID=ubuntu\nID_LIKE=debian\nNAME=\"Ubuntu\"\n"
             "VERSION_ID=\"22.04\"\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n");
  SourceHost host(dir_.path());
  auto source = host.make("os");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty()) << ::testing::PrintToString(s.errors);
  EXPECT_EQ(
      value_of(s, "node_os_version",
               metrics::labels({{"id", "ubuntu"}, {"id_like", "debian"}, {"name", "Ubuntu"}})),
      22.04);
  EXPECT_EQ(s.os_pretty_name, "Ubuntu 22.04.4 LTS");
}

TEST_F(OsSourceTest, AbsoluteLinkFallsBackToUsrLib) {
  write_file(root() / "usr/lib/os-release", "ID=fedora\nVERSION_ID=40\n");
  std::filesystem::create_directories(root() / "etc");
  std::filesystem::create_symlink("/usr/lib/os-release", root() / "etc/os-release");
  SourceHost host(dir_.path());
  auto source = host.make("os");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty()) << ::testing::PrintToString(s.errors);
  EXPECT_EQ(value_of(s, "node_os_version",
                     metrics::labels({{"id", "fedora"}, {"id_like", ""}, {"name", ""}})),
            40);
}

TEST_F(OsSourceTest, LinkOutOfTheRootIsNotFollowed) {
  std::filesystem::create_directories(root() / "etc");
  std::filesystem::create_symlink("../../outside", root() / "etc/os-release");
  write_file(dir_.path() / "outside", "ID=secret\n");
  SourceHost host(dir_.path());
  auto source = host.make("os");
  Snapshot s = host.sample(*source);
  EXPECT_FALSE(s.families.find("node_os_info"));
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("etc/os-release"), std::string::npos) << s.errors[0];
  EXPECT_EQ(s.errors[0].find("secret"), std::string::npos);
}

TEST_F(OsSourceTest, NeitherFile) {
  SourceHost host(dir_.path());
  auto source = host.make("os");
  Snapshot s = host.sample(*source);
  EXPECT_FALSE(s.families.find("node_os_info"));
  EXPECT_FALSE(s.os_pretty_name);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], (root() / "usr/lib/os-release").string() + ": No such file or directory");
}

TEST_F(OsSourceTest, UnparsableFileIsReported) {
  write_file(root() / "etc/os-release", "NAME=\"cut short\n");
  SourceHost host(dir_.path());
  auto source = host.make("os");
  Snapshot s = host.sample(*source);
  EXPECT_FALSE(s.families.find("node_os_info"));
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("etc/os-release: "), std::string::npos) << s.errors[0];
  EXPECT_NE(s.errors[0].find("line 1: unterminated double quote"), std::string::npos);
}

TEST_F(OsSourceTest, NoVersionNumberNoVersionFamily) {
  write_file(root() / "etc/os-release", "ID=arch\nNAME=\"Arch Linux\"\nBUILD_ID=rolling\n");
  SourceHost host(dir_.path());
  auto source = host.make("os");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.families.find("node_os_info"));
  EXPECT_FALSE(s.families.find("node_os_version"));
  EXPECT_FALSE(s.os_pretty_name && !s.os_pretty_name->empty());
}

TEST_F(OsSourceTest, ReReadOncePerMinute) {
  write_file(root() / "etc/os-release", "ID=debian\nVERSION_ID=12\n");
  SourceHost host(dir_.path());
  auto source = host.make("os");
  const std::string labels = metrics::labels({{"id", "debian"}, {"id_like", ""}, {"name", ""}});
  EXPECT_EQ(value_of(host.sample(*source), "node_os_version", labels), 12);
  write_file(root() / "etc/os-release", "ID=debian\nVERSION_ID=13\n");
  host.clock().advance(59s);
  EXPECT_EQ(value_of(host.sample(*source), "node_os_version", labels), 12);
  host.clock().advance(1s);
  EXPECT_EQ(value_of(host.sample(*source), "node_os_version", labels), 13);
}

}  // namespace
}  // namespace nodeagent::nodeinfo
