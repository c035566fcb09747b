#include "nodeinfo/host_fs.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>

#include "test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::TempDir;
using testing_util::write_file;

static_assert(!std::is_copy_constructible_v<HostFs>);
static_assert(std::is_nothrow_move_constructible_v<HostFs>);
// Callers may name the plain error_code result; the path is lost but it compiles.
static_assert(
    std::is_convertible_v<boost::system::result<HostFs, OpenError>, boost::system::result<HostFs>>);

TEST(HostFs, OpensFixtureAndReads) {
  const auto root = fixture_host("vm-2cpu-psi");
  auto fs = HostFs::open(root / "proc", root / "sys");
  ASSERT_TRUE(fs) << fs.error().message();
  auto loadavg = fs->read_proc("loadavg");
  ASSERT_TRUE(loadavg);
  EXPECT_EQ(*loadavg, "0.90 0.59 0.28 1/91 8883\n");
  auto pressure = fs->read_proc("pressure/cpu");
  ASSERT_TRUE(pressure);
  EXPECT_EQ(pressure->rfind("some ", 0), 0u);
  auto online = fs->read_sys("devices/system/cpu/online");
  ASSERT_TRUE(online);
  EXPECT_EQ(*online, "0-1\n");
  EXPECT_EQ(fs->procfs(), root / "proc");
  EXPECT_EQ(fs->sysfs(), root / "sys");
}

TEST(HostFs, MissingProcRootNamesThePath) {
  TempDir tmp;
  auto fs = HostFs::open(tmp.path() / "nope", tmp.path());
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().code.value(), ENOENT);
  EXPECT_EQ(fs.error().path, tmp.path() / "nope");
  EXPECT_EQ(fs.error().message(), (tmp.path() / "nope").string() + ": No such file or directory");
}

TEST(HostFs, MissingSysRootNamesThePath) {
  TempDir tmp;
  auto fs = HostFs::open(tmp.path(), tmp.path() / "nosys");
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().path, tmp.path() / "nosys");
  EXPECT_NE(fs.error().message().find("nosys: No such file or directory"), std::string::npos);
}

TEST(HostFs, RootThatIsAFileIsNotADirectory) {
  TempDir tmp;
  write_file(tmp.path() / "file", "x");
  auto fs = HostFs::open(tmp.path() / "file", tmp.path());
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().code.value(), ENOTDIR);
}

TEST(HostFs, ValueOnErrorThrowsWithThePath) {
  try {
    (void)HostFs::open("/nonexistent/procfs-root", "/sys").value();
    FAIL() << "expected an exception";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/procfs-root"), std::string::npos);
  }
}

TEST(HostFs, MissingFileCarriesErrnoAndReason) {
  TempDir tmp;
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  auto r = fs->read_proc("loadavg");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().value(), ENOENT);
  EXPECT_EQ(r.error().category(), boost::system::system_category());
  EXPECT_EQ(fs->proc_reason("loadavg", r.error()),
            (tmp.path() / "loadavg").string() + ": No such file or directory");
  EXPECT_EQ(fs->sys_reason("x", r.error()),
            (tmp.path() / "x").string() + ": No such file or directory");
  std::string buf = "stale";
  EXPECT_EQ(fs->read_sys_into("nothing", buf).value(), ENOENT);
  EXPECT_TRUE(buf.empty());
}

TEST(HostFs, ReasonDoesNotDoubleSlashes) {
  EXPECT_EQ(describe_path_error("/host/proc/", "loadavg", "boom"), "/host/proc/loadavg: boom");
  EXPECT_EQ(describe_path_error("/host/proc", "loadavg", "boom"), "/host/proc/loadavg: boom");
  EXPECT_EQ(describe_path_error("/host/proc", "", "boom"), "/host/proc: boom");
}

TEST(HostFs, PathsMayNotEscapeTheRoot) {
  TempDir tmp;
  write_file(tmp.path() / "outside", "secret\n");
  std::filesystem::create_directories(tmp.path() / "root" / "sub");
  auto fs = HostFs::open(tmp.path() / "root", tmp.path() / "root");
  ASSERT_TRUE(fs);
  for (std::string_view bad : {"../outside", "/etc/hostname", "", "sub/../../outside", ".."}) {
    auto r = fs->read_proc(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().value(), EINVAL) << bad;
  }
  EXPECT_FALSE(fs->proc_inode("../outside"));
  EXPECT_EQ(fs->read_proc(std::string_view("a\0b", 3)).error().value(), EINVAL);
}

TEST(HostFs, ReadsLargeFilesCompletely) {
  TempDir tmp;
  std::string big;
  for (int i = 0; big.size() < 200 * 1024; ++i) big += std::to_string(i) + ' ';
  write_file(tmp.path() / "big", big);
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  auto r = fs->read_proc("big");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, big);
  std::string reused;
  ASSERT_FALSE(fs->read_proc_into("big", reused));
  ASSERT_FALSE(fs->read_proc_into("big", reused));  // second read into a warm buffer
  EXPECT_EQ(reused, big);
}

TEST(HostFs, ReadingADirectoryFailsWithEisdir) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "d");
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  EXPECT_EQ(fs->read_proc("d").error().value(), EISDIR);
}

TEST(HostFs, KeepsReadingAfterTheRootPathIsRenamed) {
  // The root is held as an fd: reads keep working when the path no longer resolves (as after
  // the agent drops the privileges it needed to open the root).
  TempDir tmp;
  write_file(tmp.path() / "a" / "uptime", "1.00 2.00\n");
  auto fs = HostFs::open(tmp.path() / "a", tmp.path() / "a");
  ASSERT_TRUE(fs);
  std::filesystem::rename(tmp.path() / "a", tmp.path() / "b");
  auto r = fs->read_proc("uptime");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "1.00 2.00\n");
}

TEST(HostFs, ProcInode) {
  TempDir tmp;
  write_file(tmp.path() / "one", "1");
  write_file(tmp.path() / "two", "2");
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  const auto one = fs->proc_inode("one");
  ASSERT_TRUE(one);
  EXPECT_EQ(one, fs->proc_inode("one"));
  EXPECT_NE(one, fs->proc_inode("two"));
  EXPECT_FALSE(fs->proc_inode("three"));
}

TEST(HostFs, ProcInodeOfRealNamespaceLinks) {
  auto fs = HostFs::open("/proc", "/sys");
  ASSERT_TRUE(fs) << fs.error().message();
  const auto self_net = fs->proc_inode("self/ns/net");
  ASSERT_TRUE(self_net);
  EXPECT_EQ(self_net, fs->proc_inode("thread-self/ns/net"));
}

TEST(HostFile, ProcfsFileIsReadAgainFromTheStart) {
  auto fs = HostFs::open("/proc", "/sys");
  ASSERT_TRUE(fs);
  auto file = fs->open_proc_file("stat");
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_TRUE(file->kernel_generated());
  std::string a, b;
  ASSERT_FALSE(file->read(a));
  ASSERT_FALSE(file->read(b));
  EXPECT_EQ(a.rfind("cpu  ", 0), 0u);
  EXPECT_EQ(b.rfind("cpu  ", 0), 0u);
  EXPECT_EQ(a.back(), '\n');
  EXPECT_NE(b.find("\nprocs_blocked "), std::string::npos);  // complete, not cut
}

TEST(HostFile, RegularFileSeesRewritesAndLargeContent) {
  TempDir tmp;
  write_file(tmp.path() / "f", "one\n");
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  auto file = fs->open_proc_file("f");
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->kernel_generated());
  std::string out;
  ASSERT_FALSE(file->read(out));
  EXPECT_EQ(out, "one\n");
  const std::string big(100000, 'x');
  write_file(tmp.path() / "f", big);  // truncates in place: same inode
  ASSERT_FALSE(file->read(out));
  EXPECT_EQ(out, big);
}

TEST(HostFile, ErrorsCarryErrno) {
  TempDir tmp;
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  EXPECT_EQ(fs->open_proc_file("missing").error().value(), ENOENT);
  EXPECT_EQ(fs->open_proc_file("../x").error().value(), EINVAL);
  HostFile closed;
  std::string out = "stale";
  EXPECT_EQ(closed.read(out).value(), EBADF);
  EXPECT_TRUE(out.empty());
}

TEST(HostFs, MoveTransfersTheRoots) {
  const auto root = fixture_host("tiny-1cpu-nopsi");
  auto opened = HostFs::open(root / "proc", root / "sys");
  ASSERT_TRUE(opened);
  HostFs a = std::move(*opened);
  HostFs b = std::move(a);
  EXPECT_TRUE(b.read_proc("uptime"));
  HostFs c = std::move(*HostFs::open(root / "proc", root / "sys"));
  c = std::move(b);
  EXPECT_TRUE(c.read_proc("loadavg"));
  EXPECT_EQ(c.procfs(), root / "proc");
}

// A FIFO with no writer blocks open() and read() forever; a socket or device is no better.
// They are refused at once, before any read.
TEST(HostFs, FifosAndSocketsAreRefusedWithoutBlocking) {
  TempDir tmp;
  ASSERT_EQ(::mkfifo((tmp.path() / "loadavg").c_str(), 0600), 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = (tmp.path() / "stat").string();
  ASSERT_LT(sock_path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  for (std::string_view name : {"loadavg", "stat"}) {
    auto r = fs->read_proc(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error(), HostFsError::kNotRegularFile) << name << ": " << r.error().message();
    auto file = fs->open_proc_file(name);
    ASSERT_FALSE(file) << name;
    EXPECT_EQ(file.error(), HostFsError::kNotRegularFile);
  }
  EXPECT_EQ(fs->proc_reason("loadavg", make_error_code(HostFsError::kNotRegularFile)),
            (tmp.path() / "loadavg").string() +
                ": not a regular file (FIFOs, devices and sockets are refused: they can block)");
  ::close(sock);
}

// A fixture tree or a misconfigured mount may hold symlinks out of the root: never followed,
// so nothing outside is read (or quoted in a parse error).
TEST(HostFs, SymlinksOutOfTheRootAreRefused) {
  TempDir tmp;
  write_file(tmp.path() / "secret", "outside\n");
  write_file(tmp.path() / "root" / "uptime", "1.00 2.00\n");
  std::filesystem::create_symlink(tmp.path() / "secret", tmp.path() / "root" / "loadavg");
  std::filesystem::create_symlink("../secret", tmp.path() / "root" / "stat");
  std::filesystem::create_symlink("uptime", tmp.path() / "root" / "inside");
  auto fs = HostFs::open(tmp.path() / "root", tmp.path() / "root");
  ASSERT_TRUE(fs);
  for (std::string_view name : {"loadavg", "stat"}) {
    auto r = fs->read_proc(name);
    ASSERT_FALSE(r) << name << " read " << *r;
    EXPECT_EQ(r.error(), HostFsError::kOutsideRoot) << name << ": " << r.error().message();
    EXPECT_EQ(fs->open_proc_file(name).error(), HostFsError::kOutsideRoot);
    EXPECT_FALSE(fs->proc_inode(name)) << name;
  }
  EXPECT_EQ(fs->read_proc("inside").value(), "1.00 2.00\n");
  EXPECT_EQ(fs->proc_inode("inside"), fs->proc_inode("uptime"));
}

TEST(HostFs, ReadsAreBoundedInSize) {
  TempDir tmp;
  write_file(tmp.path() / "huge", "");
  std::filesystem::resize_file(tmp.path() / "huge", kMaxHostFileSize + 1);  // sparse: cheap
  write_file(tmp.path() / "fits", "");
  std::filesystem::resize_file(tmp.path() / "fits", kMaxHostFileSize - 1);
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  EXPECT_EQ(fs->read_proc("huge").error().value(), EFBIG);
  EXPECT_EQ(fs->read_proc("fits").value().size(), kMaxHostFileSize - 1);
  auto file = fs->open_proc_file("huge");
  ASSERT_TRUE(file);
  std::string out;
  EXPECT_EQ(file->read(out).value(), EFBIG);
  EXPECT_TRUE(out.empty());
}

TEST(HostFs, CheckReadableNamesTheRoot) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "proc");
  auto fs = HostFs::open(tmp.path() / "proc", tmp.path());
  ASSERT_TRUE(fs);
  EXPECT_TRUE(fs->check_readable());
  if (::geteuid() == 0) GTEST_SKIP() << "root reads a mode 0 directory anyway";
  std::filesystem::permissions(tmp.path() / "proc", std::filesystem::perms::none);
  auto r = fs->check_readable();
  std::filesystem::permissions(tmp.path() / "proc", std::filesystem::perms::owner_all);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), (tmp.path() / "proc").string() + ": Permission denied");
}

}  // namespace
}  // namespace nodeagent::nodeinfo
