#include "nodeinfo/host_fs.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::TempDir;
using testing_util::write_file;

static_assert(!std::is_copy_constructible_v<HostRoot>);
static_assert(std::is_nothrow_move_constructible_v<HostRoot>);
static_assert(std::is_nothrow_move_constructible_v<HostFs>);

// A whole file below a root, read once the way the sampler reads a source it does not keep.
Result<std::string> read_whole(const Result<HostFile>& file) {
  if (!file) return file.error();
  std::string out;
  if (auto r = file->read(out); !r) return r.error();
  return out;
}
Result<std::string> read_proc(const HostFs& fs, std::string_view relative) {
  return read_whole(fs.procfs.open_file(relative));
}
Result<std::string> read_sys(const HostFs& fs, std::string_view relative) {
  return read_whole(fs.sysfs.open_file(relative));
}

TEST(HostFs, OpensFixtureAndReads) {
  const auto root = fixture_host("vm-2cpu-psi");
  auto fs = HostFs::open(root / "proc", root / "sys");
  ASSERT_TRUE(fs) << fs.error().message();
  auto loadavg = read_proc(*fs, "loadavg");
  ASSERT_TRUE(loadavg);
  EXPECT_EQ(*loadavg, "0.90 0.59 0.28 1/91 8883\n");
  auto pressure = read_proc(*fs, "pressure/cpu");
  ASSERT_TRUE(pressure);
  EXPECT_EQ(pressure->rfind("some ", 0), 0u);
  auto online = read_sys(*fs, "devices/system/cpu/online");
  ASSERT_TRUE(online);
  EXPECT_EQ(*online, "0-1\n");
  EXPECT_EQ(fs->procfs.path(), root / "proc");
  EXPECT_EQ(fs->sysfs.path(), root / "sys");
}

TEST(HostFs, MissingProcRootNamesThePath) {
  TempDir tmp;
  auto fs = HostFs::open(tmp.path() / "nope", tmp.path());
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().code.value(), ENOENT);
  EXPECT_EQ(fs.error().code.category(), boost::system::system_category());
  EXPECT_EQ(fs.error().detail, (tmp.path() / "nope").string());
  EXPECT_EQ(describe_path_error(fs.error()),
            (tmp.path() / "nope").string() + ": No such file or directory");
  EXPECT_EQ(fs.error().message(), "No such file or directory: " + (tmp.path() / "nope").string());
}

TEST(HostFs, MissingSysRootNamesThePath) {
  TempDir tmp;
  auto fs = HostFs::open(tmp.path(), tmp.path() / "nosys");
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().detail, (tmp.path() / "nosys").string());
  EXPECT_NE(describe_path_error(fs.error()).find("nosys: No such file or directory"),
            std::string::npos);
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
  auto r = fs->procfs.open_file("loadavg");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code.value(), ENOENT);
  EXPECT_EQ(r.error().code.category(), boost::system::system_category());
  EXPECT_EQ(r.error().detail, (tmp.path() / "loadavg").string());
  EXPECT_EQ(describe_path_error(r.error()),
            (tmp.path() / "loadavg").string() + ": No such file or directory");
  EXPECT_EQ(fs->procfs.reason("loadavg", r.error().code.message()),
            (tmp.path() / "loadavg").string() + ": No such file or directory");
  EXPECT_EQ(fs->sysfs.reason("x", r.error().code.message()),
            (tmp.path() / "x").string() + ": No such file or directory");
  auto sys = fs->sysfs.open_file("nothing");
  ASSERT_FALSE(sys);
  EXPECT_EQ(sys.error().code.value(), ENOENT);
  EXPECT_EQ(sys.error().detail, (tmp.path() / "nothing").string());
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
    auto r = read_proc(*fs, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code.value(), EINVAL) << bad;
  }
  EXPECT_EQ(fs->procfs.inode("../outside").error().code.value(), EINVAL);
  EXPECT_EQ(fs->procfs.count_entries("../outside").error().code.value(), EINVAL);
  EXPECT_EQ(read_proc(*fs, std::string_view("a\0b", 3)).error().code.value(), EINVAL);
}

TEST(HostFs, ReadsLargeFilesCompletely) {
  TempDir tmp;
  std::string big;
  for (int i = 0; big.size() < 200 * 1024; ++i) big += std::to_string(i) + ' ';
  write_file(tmp.path() / "big", big);
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  auto r = read_proc(*fs, "big");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, big);
  auto file = fs->procfs.open_file("big");
  ASSERT_TRUE(file);
  std::string reused;
  ASSERT_TRUE(file->read(reused));
  ASSERT_TRUE(file->read(reused));  // second read into a warm buffer
  EXPECT_EQ(reused, big);
}

TEST(HostFs, ReadingADirectoryFailsWithEisdir) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "d");
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  EXPECT_EQ(read_proc(*fs, "d").error().code.value(), EISDIR);
}

TEST(HostFs, KeepsReadingAfterTheRootPathIsRenamed) {
  // The root is held as an fd: reads keep working when the path no longer resolves (as after
  // the agent drops the privileges it needed to open the root).
  TempDir tmp;
  write_file(tmp.path() / "a" / "uptime", "1.00 2.00\n");
  auto fs = HostFs::open(tmp.path() / "a", tmp.path() / "a");
  ASSERT_TRUE(fs);
  std::filesystem::rename(tmp.path() / "a", tmp.path() / "b");
  auto r = read_proc(*fs, "uptime");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "1.00 2.00\n");
}

TEST(HostFs, ProcInode) {
  TempDir tmp;
  write_file(tmp.path() / "one", "1");
  write_file(tmp.path() / "two", "2");
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  const auto one = fs->procfs.inode("one");
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, fs->procfs.inode("one").value());
  EXPECT_NE(*one, fs->procfs.inode("two").value());
  auto three = fs->procfs.inode("three");
  ASSERT_FALSE(three);
  EXPECT_EQ(three.error().code, boost::system::errc::no_such_file_or_directory);
  EXPECT_EQ(three.error().detail, (tmp.path() / "three").string());
}

TEST(HostFs, ProcInodeOfRealNamespaceLinks) {
  auto fs = HostFs::open("/proc", "/sys");
  ASSERT_TRUE(fs) << fs.error().message();
  const auto self_net = fs->procfs.inode("self/ns/net");
  ASSERT_TRUE(self_net);
  EXPECT_EQ(*self_net, fs->procfs.inode("thread-self/ns/net").value());
}

TEST(HostFile, ProcfsFileIsReadAgainFromTheStart) {
  auto fs = HostFs::open("/proc", "/sys");
  ASSERT_TRUE(fs);
  auto file = fs->procfs.open_file("stat");
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_TRUE(file->kernel_generated());
  std::string a, b;
  ASSERT_TRUE(file->read(a));
  ASSERT_TRUE(file->read(b));
  EXPECT_EQ(a.rfind("cpu  ", 0), 0u);
  EXPECT_EQ(b.rfind("cpu  ", 0), 0u);
  EXPECT_EQ(a.back(), '\n');
  EXPECT_NE(b.find("\nprocs_blocked "), std::string::npos);  // complete, not cut
}

// The mount table is re-read only when the kernel flags a change: a mount and an unmount in
// the test's own mount namespace must each be flagged once, and nothing in between.
TEST(HostFile, MountTableChangesAreFlaggedOnce) {
  if (::unshare(CLONE_NEWNS) != 0) GTEST_SKIP() << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0)
      << std::strerror(errno);
  auto fs = HostFs::open("/proc", "/sys");
  ASSERT_TRUE(fs);
  auto table = fs->procfs.open_file("self/mountinfo");
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_FALSE(table->mounts_changed());
  TempDir tmp;
  ASSERT_EQ(::mount("none", tmp.path().c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);
  EXPECT_TRUE(table->mounts_changed());
  EXPECT_FALSE(table->mounts_changed());
  ASSERT_EQ(::umount(tmp.path().c_str()), 0) << std::strerror(errno);
  EXPECT_TRUE(table->mounts_changed());
  EXPECT_FALSE(table->mounts_changed());
  // A file that is not a kernel's mount table cannot tell, so it always says "read me".
  write_file(tmp.path() / "mountinfo", "1 0 0:1 / / rw - tmpfs none rw\n");
  auto root = HostRoot::open(tmp.path());
  ASSERT_TRUE(root);
  auto plain = root->open_file("mountinfo");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->mounts_changed());
  EXPECT_TRUE(plain->mounts_changed());
}

TEST(HostFile, RegularFileSeesRewritesAndLargeContent) {
  TempDir tmp;
  write_file(tmp.path() / "f", "one\n");
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  auto file = fs->procfs.open_file("f");
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->kernel_generated());
  std::string out;
  ASSERT_TRUE(file->read(out));
  EXPECT_EQ(out, "one\n");
  const std::string big(100000, 'x');
  write_file(tmp.path() / "f", big);  // truncates in place: same inode
  ASSERT_TRUE(file->read(out));
  EXPECT_EQ(out, big);
}

TEST(HostFile, ErrorsCarryErrno) {
  TempDir tmp;
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  EXPECT_EQ(fs->procfs.open_file("missing").error().code.value(), ENOENT);
  EXPECT_EQ(fs->procfs.open_file("../x").error().code.value(), EINVAL);
  HostFile closed;
  std::string out = "stale";
  EXPECT_EQ(closed.read(out).error().code.value(), EBADF);
  EXPECT_TRUE(out.empty());
}

TEST(HostFs, MoveTransfersTheRoots) {
  const auto root = fixture_host("tiny-1cpu-nopsi");
  auto opened = HostFs::open(root / "proc", root / "sys");
  ASSERT_TRUE(opened);
  HostFs a = std::move(*opened);
  HostFs b = std::move(a);
  EXPECT_TRUE(read_proc(b, "uptime"));
  HostFs c = std::move(*HostFs::open(root / "proc", root / "sys"));
  c = std::move(b);
  EXPECT_TRUE(read_proc(c, "loadavg"));
  EXPECT_EQ(c.procfs.path(), root / "proc");
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
    auto r = read_proc(*fs, name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, HostFsError::kNotRegularFile) << name << ": " << r.error().message();
    auto file = fs->procfs.open_file(name);
    ASSERT_FALSE(file) << name;
    EXPECT_EQ(file.error().code, HostFsError::kNotRegularFile);
  }
  EXPECT_EQ(fs->procfs.reason("loadavg", make_error_code(HostFsError::kNotRegularFile).message()),
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
    auto r = read_proc(*fs, name);
    ASSERT_FALSE(r) << name << " read " << *r;
    EXPECT_EQ(r.error().code, HostFsError::kOutsideRoot) << name << ": " << r.error().message();
    EXPECT_EQ(fs->procfs.open_file(name).error().code, HostFsError::kOutsideRoot);
    EXPECT_EQ(fs->procfs.inode(name).error().code, HostFsError::kOutsideRoot) << name;
  }
  EXPECT_EQ(read_proc(*fs, "inside").value(), "1.00 2.00\n");
  EXPECT_EQ(fs->procfs.inode("inside").value(), fs->procfs.inode("uptime").value());
}

TEST(HostFs, ReadsAreBoundedInSize) {
  TempDir tmp;
  write_file(tmp.path() / "huge", "");
  std::filesystem::resize_file(tmp.path() / "huge", kMaxHostFileSize + 1);  // sparse: cheap
  write_file(tmp.path() / "fits", "");
  std::filesystem::resize_file(tmp.path() / "fits", kMaxHostFileSize - 1);
  auto fs = HostFs::open(tmp.path(), tmp.path());
  ASSERT_TRUE(fs);
  EXPECT_EQ(read_proc(*fs, "huge").error().code.value(), EFBIG);
  EXPECT_EQ(read_proc(*fs, "fits").value().size(), kMaxHostFileSize - 1);
  auto file = fs->procfs.open_file("huge");
  ASSERT_TRUE(file);
  std::string out;
  EXPECT_EQ(file->read(out).error().code.value(), EFBIG);
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
  EXPECT_EQ(r.error().code.value(), EACCES);
  EXPECT_EQ(describe_path_error(r.error()), (tmp.path() / "proc").string() + ": Permission denied");
}

// Both roots are checked, procfs first; a sysfs the user cannot read is named too.
TEST(HostFs, CheckReadableNamesTheSysRoot) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "sys");
  auto fs = HostFs::open(tmp.path(), tmp.path() / "sys");
  ASSERT_TRUE(fs);
  if (::geteuid() == 0) GTEST_SKIP() << "root reads a mode 0 directory anyway";
  std::filesystem::permissions(tmp.path() / "sys", std::filesystem::perms::none);
  auto r = fs->check_readable();
  std::filesystem::permissions(tmp.path() / "sys", std::filesystem::perms::owner_all);
  ASSERT_FALSE(r);
  EXPECT_EQ(describe_path_error(r.error()), (tmp.path() / "sys").string() + ": Permission denied");
}

TEST(HostRoot, OpensOneRootAndNamesIt) {
  TempDir tmp;
  write_file(tmp.path() / "status", "Threads:\t1\n");
  auto root = HostRoot::open(tmp.path());
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(root->path(), tmp.path());
  EXPECT_EQ(root->read_file("status").value(), "Threads:\t1\n");
  EXPECT_TRUE(root->check_readable());
  EXPECT_EQ(root->reason("status", "boom"), (tmp.path() / "status").string() + ": boom");
  auto missing = HostRoot::open(tmp.path() / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().detail, (tmp.path() / "nope").string());
}

TEST(HostRoot, ReadFileNamesThePathOnEveryFailure) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "d");
  write_file(tmp.path() / "huge", "");
  std::filesystem::resize_file(tmp.path() / "huge", kMaxHostFileSize + 1);
  auto root = HostRoot::open(tmp.path());
  ASSERT_TRUE(root);
  for (const auto& [name, err] :
       {std::pair{"missing", ENOENT}, std::pair{"d", EISDIR}, std::pair{"huge", EFBIG}}) {
    auto r = root->read_file(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code.value(), err) << name;
    EXPECT_EQ(r.error().detail, (tmp.path() / name).string()) << name;
  }
}

TEST(HostRoot, CountEntriesSkipsDotNamesAndStaysBeneath) {
  TempDir tmp;
  write_file(tmp.path() / "root" / "d" / "a", "");
  write_file(tmp.path() / "root" / "d" / "b", "");
  write_file(tmp.path() / "root" / "d" / ".hidden", "");
  write_file(tmp.path() / "root" / "f", "");
  std::filesystem::create_directories(tmp.path() / "outside");
  std::filesystem::create_symlink(tmp.path() / "outside", tmp.path() / "root" / "out");
  auto root = HostRoot::open(tmp.path() / "root");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->count_entries("d").value(), 2u);
  EXPECT_EQ(root->count_entries("f").error().code.value(), ENOTDIR);
  EXPECT_EQ(root->count_entries("none").error().code.value(), ENOENT);
  auto out = root->count_entries("out");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, HostFsError::kOutsideRoot);
  EXPECT_EQ(out.error().detail, (tmp.path() / "root" / "out").string());
}

// The agent's own process is read through a root on /proc/self like any other root.
TEST(HostRoot, ProcSelf) {
  auto self = HostRoot::open("/proc/self");
  ASSERT_TRUE(self) << self.error().message();
  auto status = self->read_file("status");
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_NE(status->find("\nThreads:"), std::string::npos);
  auto file = self->open_file("statm");
  ASSERT_TRUE(file);
  EXPECT_TRUE(file->kernel_generated());
  auto fds = self->count_entries("fd");
  ASSERT_TRUE(fds) << fds.error().message();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  auto more = self->count_entries("fd");
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(more.value(), *fds + 2);
  auto net = self->inode("ns/net");
  ASSERT_TRUE(net) << net.error().message();
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/ns/net", &st), 0);
  EXPECT_EQ(*net, static_cast<std::uint64_t>(st.st_ino));
}

}  // namespace
}  // namespace nodeagent::nodeinfo
