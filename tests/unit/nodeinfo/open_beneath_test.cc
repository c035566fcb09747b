#include "nodeinfo/open_beneath.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::TempDir;
using testing_util::write_file;

// Both resolvers must agree: the kernel's openat2 and the user-space walk older kernels get.
class OpenBeneath : public testing::TestWithParam<Resolver> {
 protected:
  // root/ holds the tree under test; outside is a sibling the tree must never reach.
  OpenBeneath() {
    write_file(tmp_.path() / "outside", "secret\n");
    write_file(root() / "file", "inside\n");
    write_file(root() / "sub" / "deeper" / "leaf", "leaf\n");
    link("file", "link");                            // relative, stays inside
    link("../file", "sub/up");                       // climbs, but not above the root
    link("deeper", "sub/dirlink");                   // a directory symlink on the way
    link("sub/dirlink/leaf", "chain");               // two levels of links
    link((tmp_.path() / "outside").c_str(), "abs");  // absolute: leaves the root
    link("../outside", "rel_out");                   // relative, climbs out
    link("../../outside", "sub/rel_out");
    link("..", "parent");  // a directory link to above the root
    link("loop_b", "loop_a");
    link("loop_a", "loop_b");
    root_fd_ = ::open(root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  ~OpenBeneath() override { ::close(root_fd_); }

  std::filesystem::path root() const { return tmp_.path() / "root"; }
  void link(const char* target, const char* name) {
    std::filesystem::create_symlink(target, root() / name);
  }

  // Content of `relative` opened beneath the root, or the errno.
  boost::system::result<std::string> read(std::string_view relative) const {
    auto fd = open_beneath(root_fd_, relative, O_RDONLY, GetParam());
    if (!fd) return fd.error();
    std::string out(256, '\0');
    const ssize_t n = ::read(*fd, out.data(), out.size());
    ::close(*fd);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }

  TempDir tmp_;
  int root_fd_ = -1;
};

TEST_P(OpenBeneath, SymlinksThatStayBeneathAreFollowed) {
  EXPECT_EQ(read("file").value(), "inside\n");
  EXPECT_EQ(read("link").value(), "inside\n");
  EXPECT_EQ(read("sub/up").value(), "inside\n");
  EXPECT_EQ(read("sub/dirlink/leaf").value(), "leaf\n");
  EXPECT_EQ(read("chain").value(), "leaf\n");
  EXPECT_EQ(read("sub/deeper/../../file").value(), "inside\n");
  EXPECT_EQ(read("./sub//deeper/leaf").value(), "leaf\n");
}

TEST_P(OpenBeneath, SymlinksThatLeaveTheRootFailWithExdev) {
  for (std::string_view bad :
       {"abs", "rel_out", "sub/rel_out", "parent/outside", "../outside", "sub/../../outside"}) {
    auto r = read(bad);
    ASSERT_FALSE(r) << bad << " read " << r.value();
    EXPECT_EQ(r.error().value(), EXDEV) << bad << ": " << r.error().message();
  }
}

TEST_P(OpenBeneath, LoopsAndMissingFilesFail) {
  EXPECT_EQ(read("loop_a").error().value(), ELOOP);
  EXPECT_EQ(read("missing").error().value(), ENOENT);
  EXPECT_EQ(read("file/below").error().value(), ENOTDIR);
}

TEST_P(OpenBeneath, TheRootItselfAndDirectories) {
  auto fd = open_beneath(root_fd_, "sub", O_PATH | O_DIRECTORY, GetParam());
  ASSERT_TRUE(fd) << fd.error().message();
  ::close(*fd);
  auto self = open_beneath(root_fd_, ".", O_RDONLY | O_DIRECTORY, GetParam());
  ASSERT_TRUE(self) << self.error().message();
  ::close(*self);
  EXPECT_EQ(open_beneath(root_fd_, "file", O_PATH | O_DIRECTORY, GetParam()).error().value(),
            ENOTDIR);
}

// The real procfs: its own symlinks (self, thread-self, net -> self/net) stay beneath and must
// keep working; magic links (fd/*, exe, cwd) are not followed.
TEST_P(OpenBeneath, RealProcfsKeepsWorking) {
  const int proc = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(proc, 0);
  for (std::string_view good :
       {"loadavg", "self/status", "thread-self/stat", "net/dev", "self/net/dev", "1/stat"}) {
    auto fd = open_beneath(proc, good, O_RDONLY, GetParam());
    EXPECT_TRUE(fd) << good << ": " << fd.error().message();
    if (fd) ::close(*fd);
  }
  for (std::string_view magic : {"self/exe", "self/cwd/etc/hostname", "self/root/etc/hostname"}) {
    auto fd = open_beneath(proc, magic, O_RDONLY, GetParam());
    EXPECT_FALSE(fd) << magic << " was followed";
    if (fd) ::close(*fd);
  }
  ::close(proc);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, OpenBeneath,
                         testing::Values(Resolver::kKernelIfAvailable, Resolver::kUserSpace),
                         [](const testing::TestParamInfo<Resolver>& p) {
                           return p.param == Resolver::kUserSpace ? "UserSpace" : "Kernel";
                         });

}  // namespace
}  // namespace nodeagent::nodeinfo
