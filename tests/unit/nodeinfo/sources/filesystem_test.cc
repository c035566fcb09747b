// The filesystem source: the mountinfo parser (table), the source on a host tree with an
// injected statfs, and the hung-statfs path driven by a ManualClock and a blocked fake call.
#include "nodeinfo/sources/filesystem.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;
using namespace std::chrono_literals;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- parser -------------------------------------------------------------------------------

struct LineCase {
  const char* name;
  std::string line;
  MountEntry want;
};

TEST(ParseMountinfo, Lines) {
  const LineCase cases[] = {
      {"root ext4",
       "28 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw,errors=remount-ro",
       {"/dev/nvme0n1p1", "/", "ext4", false}},
      {"escapes",
       R"(45 28 259:1 /x /srv/a\040b\011c\012d\134e rw - ext4 /dev/sda1 rw)",
       {"/dev/sda1", "/srv/a b\tc\nd\\e", "ext4", false}},
      {"other backslashes kept",
       R"(45 28 259:1 / /srv/\101\04 rw - ext4 /dev/sda1 rw)",
       {"/dev/sda1", R"(/srv/\101\04)", "ext4", false}},
      {"nfs4",
       "32 28 0:45 / /srv/share rw,relatime shared:40 - nfs4 10.0.0.5:/export rw,hard",
       {"10.0.0.5:/export", "/srv/share", "nfs4", false}},
      {"ro per mount",
       "33 28 259:3 / /srv/archive ro,relatime - ext4 /dev/sdb1 ro",
       {"/dev/sdb1", "/srv/archive", "ext4", true}},
      {"ro in super options only",
       "34 28 259:4 / /mnt/b rw,relatime - ext4 /dev/sdc1 ro,errors=x",
       {"/dev/sdc1", "/mnt/b", "ext4", true}},
      {"remount-ro is not ro",
       "34 28 259:4 / /mnt/c rw - ext4 /dev/sdc1 rw,errors=remount-ro",
       {"/dev/sdc1", "/mnt/c", "ext4", false}},
      {"several optional fields",
       "44 28 259:5 / /v rw shared:31 master:7 propagate_from:2 - xfs "
       "/dev/nvme1n1 rw",
       {"/dev/nvme1n1", "/v", "xfs", false}},
      {"overlay",
       "42 25 0:54 / /run/containerd/k8s.io/abc/rootfs rw,relatime - overlay overlay "
       "rw,lowerdir=/a,upperdir=/b,workdir=/c",
       {"overlay", "/run/containerd/k8s.io/abc/rootfs", "overlay", false}},
      {"kubelet pod volume",
       "40 31 0:52 / /var/lib/kubelet/pods/4f0c/volumes/kubernetes.io~projected/kube-api-access-x "
       "rw,relatime shared:50 - tmpfs tmpfs rw,size=4194304k",
       {"tmpfs", "/var/lib/kubelet/pods/4f0c/volumes/kubernetes.io~projected/kube-api-access-x",
        "tmpfs", false}},
      {"fuse subtype",
       "50 28 0:60 / /mnt/s rw - fuse.sshfs me@h:/x rw,user_id=0",
       {"me@h:/x", "/mnt/s", "fuse.sshfs", false}},
  };
  for (const LineCase& c : cases) {
    auto t = parse_mountinfo(c.line + "\n");
    ASSERT_TRUE(t) << c.name << ": " << t.error().detail;
    EXPECT_EQ(t->skipped_lines, 0u) << c.name << ": " << t->first_skip;
    ASSERT_EQ(t->mounts.size(), 1u) << c.name;
    EXPECT_EQ(t->mounts[0], c.want) << c.name << ": got " << t->mounts[0].mountpoint;
  }
}

struct BadLine {
  const char* name;
  std::string line;
  const char* reason;  // a part of first_skip
};

TEST(ParseMountinfo, BadLinesAreSkippedAndCounted) {
  const BadLine cases[] = {
      {"no separator", "28 1 259:1 / / rw ext4 /dev/sda1 rw", "no \" - \" separator"},
      {"too few fields", "28 1 259:1 / /", "expected 6 fields"},
      {"words for ids", "x 1 259:1 / / rw - ext4 /dev/sda1 rw", "bad mount id"},
      {"bad major:minor", "28 1 2591 / / rw - ext4 /dev/sda1 rw", "major:minor"},
      {"relative mount point", "28 1 259:1 / srv rw - ext4 /dev/sda1 rw", "not absolute"},
      {"no super options", "28 1 259:1 / / rw - ext4 /dev/sda1", "after \" - \""},
      {"extra field", "28 1 259:1 / / rw - ext4 /dev/sda1 rw junk", "extra field"},
      {"empty line", "", "expected 6 fields"},
      {"binary", std::string("28 1 259:1 / /\x01\xff rw - \x02 \x03"), "after \" - \""},
      {"line too long", "28 1 259:1 / /" + std::string(kMaxMountinfoLine, 'a') + " rw - ext4 x rw",
       "longer than 64 KiB"},
      {"mount point too long",
       "28 1 259:1 / /" + std::string(kMaxMountPath, 'a') + " rw - ext4 x rw",
       "mount point longer"},
      {"type too long", "28 1 259:1 / /a rw - " + std::string(300, 't') + " x rw", "type longer"},
  };
  const std::string good = "28 1 259:1 / / rw - ext4 /dev/sda1 rw\n";
  for (const BadLine& c : cases) {
    auto t = parse_mountinfo(good + c.line + "\n");
    ASSERT_TRUE(t) << c.name << ": " << t.error().detail;
    EXPECT_EQ(t->mounts.size(), 1u) << c.name;
    EXPECT_EQ(t->skipped_lines, 1u) << c.name;
    EXPECT_EQ(t->first_skip.rfind("line 2: ", 0), 0u) << c.name << ": " << t->first_skip;
    EXPECT_NE(t->first_skip.find(c.reason), std::string::npos) << c.name << ": " << t->first_skip;
    EXPECT_LT(t->first_skip.size(), 120u) << c.name;  // one short line, whatever the input
    for (char ch : t->first_skip) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << c.name;
  }
}

TEST(ParseMountinfo, WholeFileErrors) {
  EXPECT_FALSE(parse_mountinfo(""));
  auto cut = parse_mountinfo("28 1 259:1 / / rw - ext4 /dev/sda1 rw");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::kMalformed);
  EXPECT_NE(cut.error().detail.find("trailing newline"), std::string::npos);
  auto none = parse_mountinfo("garbage\nmore garbage\n");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().detail.find("no mounts"), std::string::npos);
}

TEST(ParseMountinfo, DuplicatesKeepTheLastInItsPlace) {
  auto t = parse_mountinfo(
      "1 0 8:1 / /a rw - ext4 /dev/sda1 rw\n"
      "2 1 8:2 / /b rw - ext4 /dev/sda2 rw\n"
      "3 1 8:1 / /a ro - ext4 /dev/sda1 ro\n"  // same (device, mountpoint, fstype): replaces 1
      "4 1 0:9 / /a rw - tmpfs tmpfs rw\n");   // same mount point, other device: kept
  ASSERT_TRUE(t);
  ASSERT_EQ(t->mounts.size(), 3u);
  EXPECT_EQ(t->mounts[0].mountpoint, "/b");
  EXPECT_EQ(t->mounts[1], (MountEntry{"/dev/sda1", "/a", "ext4", true}));
  EXPECT_EQ(t->mounts[2], (MountEntry{"tmpfs", "/a", "tmpfs", false}));
}

TEST(ParseMountinfo, AtMostMaxMounts) {
  std::string text;
  for (std::size_t i = 0; i < kMaxMounts + 5; ++i) {
    text += std::to_string(i + 10) + " 1 0:1 / /m" + std::to_string(i) + " rw - tmpfs tmpfs rw\n";
  }
  auto t = parse_mountinfo(text);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->mounts.size(), kMaxMounts);
  EXPECT_EQ(t->skipped_lines, 5u);
  EXPECT_NE(t->first_skip.find("more than 4096 mounts"), std::string::npos);
}

TEST(ParseMountinfo, FixtureHost) {
  auto t = parse_mountinfo(read_text(fixture_host("k8s-node-nvme") / "proc/1/mountinfo"));
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_EQ(t->skipped_lines, 0u) << t->first_skip;
  EXPECT_EQ(t->mounts.size(), 19u);  // 20 lines, one bind duplicate of /var/lib/kubelet
  auto find = [&](std::string_view mp) -> const MountEntry* {
    for (const MountEntry& m : t->mounts) {
      if (m.mountpoint == mp) return &m;
    }
    return nullptr;
  };
  ASSERT_TRUE(find("/srv/team data"));
  ASSERT_TRUE(find("/srv/share"));
  EXPECT_EQ(find("/srv/share")->device, "10.0.0.5:/export");
  EXPECT_TRUE(find("/srv/archive")->readonly);
  EXPECT_TRUE(find("/mnt/backup")->readonly);
  EXPECT_FALSE(find("/")->readonly);
}

TEST(MountOptions, WholeOptionsOnly) {
  EXPECT_TRUE(has_mount_option("ro", "ro"));
  EXPECT_TRUE(has_mount_option("rw,relatime,ro", "ro"));
  EXPECT_TRUE(has_mount_option("ro,relatime", "ro"));
  EXPECT_FALSE(has_mount_option("rw,errors=remount-ro", "ro"));
  EXPECT_FALSE(has_mount_option("rootcontext=x", "ro"));
  EXPECT_FALSE(has_mount_option("", "ro"));
  EXPECT_EQ(unescape_mount_path(R"(\134040)"), R"(\040)");  // not unescaped twice
  EXPECT_EQ(unescape_mount_path(R"(/a\)"), R"(/a\)");
}

// ---- the source, with an injected statfs ------------------------------------------------

// A thread-safe statfs stand-in: answers from a table, counts calls per path, and can hold
// chosen paths inside the call until released. Shared with the source's workers by shared_ptr,
// so an abandoned worker may still use it after the test body ends.
class FakeStatfs {
 public:
  void answer(const std::string& path, FsStats st) {
    std::lock_guard lock(mu_);
    table_[path] = st;
  }
  void block(const std::string& path) {
    std::lock_guard lock(mu_);
    blocked_[path] = true;
  }
  void block_all() {
    std::lock_guard lock(mu_);
    block_all_ = true;
  }
  void release_all() {
    std::lock_guard lock(mu_);
    blocked_.clear();
    block_all_ = false;
    cv_.notify_all();
  }
  int calls(const std::string& path) {
    std::lock_guard lock(mu_);
    return calls_[path];
  }
  // Waits (bounded) until `n` calls are inside a blocked statfs at once.
  bool wait_inside(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return inside_ >= n; });
  }
  // Waits (bounded) until `path` has been called more than `n` times.
  bool wait_calls(const std::string& path, int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return calls_[path] > n; });
  }

  static StatfsFunction function(std::shared_ptr<FakeStatfs> fake) {
    return [fake](const std::string& path) { return fake->call(path); };
  }

 private:
  Result<FsStats> call(const std::string& path) {
    std::unique_lock lock(mu_);
    ++calls_[path];
    cv_.notify_all();
    if (block_all_ || blocked_.count(path)) {
      ++inside_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !block_all_ && !blocked_.count(path); });
      --inside_;
    }
    auto it = table_.find(path);
    if (it == table_.end()) {
      return Error{boost::system::errc::make_error_code(boost::system::errc::permission_denied),
                   path};
    }
    return it->second;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, FsStats> table_;
  std::map<std::string, bool> blocked_;
  std::map<std::string, int> calls_;
  bool block_all_ = false;
  int inside_ = 0;
};

std::string mount_labels(std::string_view device, std::string_view fstype, std::string_view mp) {
  return metrics::labels({{"device", device}, {"fstype", fstype}, {"mountpoint", mp}});
}

// Samples until `done` holds for a snapshot (the worker answers asynchronously); bounded.
template <class Pred>
Snapshot sample_until(SourceHost& host, Source& source, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  Snapshot s = host.sample(source);
  while (!done(s) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    s = host.sample(source);
  }
  return s;
}

bool has_error(const Snapshot& s, std::string_view part) {
  for (const std::string& e : s.errors) {
    if (e.find(part) != std::string::npos) return true;
  }
  return false;
}

class FilesystemSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "sys");
    std::filesystem::create_directories(dir_.path() / "root");
    root_ = (dir_.path() / "root").string();
  }
  void mountinfo(std::string_view text) { write_file(dir_.path() / "proc/1/mountinfo", text); }
  std::unique_ptr<Source> make(SourceHost& host) {
    auto made = make_filesystem_source(host.options(), FakeStatfs::function(fake_));
    EXPECT_TRUE(made) << made.error().detail;
    return made ? std::move(*made) : nullptr;
  }

  TempDir dir_;
  std::string root_;  // "<tmp>/root": what paths handed to statfs start with
  std::shared_ptr<FakeStatfs> fake_ = std::make_shared<FakeStatfs>();
};

TEST_F(FilesystemSourceTest, NeedsRootfs) {
  TempDir bare;
  write_file(bare.path() / "proc/1/mountinfo", "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
  std::filesystem::create_directories(bare.path() / "sys");
  SourceHost host(bare.path());
  for (const SourceInfo& info : all_sources()) {
    if (info.name != "filesystem") continue;
    auto made = info.make(host.options());
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().code, Errc::kUnavailable);
    EXPECT_EQ(made.error().detail, "needs --rootfs (the host's / mounted read-only)");
    return;
  }
  ADD_FAILURE() << "filesystem is not in the registry";
}

TEST_F(FilesystemSourceTest, BadRegexIsAFactoryError) {
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
  SourceHost host(dir_.path());
  host.options().filesystem_fs_types_exclude = "^(unclosed";
  auto made = make_filesystem_source(host.options(), FakeStatfs::function(fake_));
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, Errc::kMalformed);
  host.options().filesystem_fs_types_exclude = "^x$";
  host.options().filesystem_mount_points_exclude = "[";
  EXPECT_FALSE(make_filesystem_source(host.options(), FakeStatfs::function(fake_)));
}

TEST_F(FilesystemSourceTest, FixtureHostFamilies) {
  std::filesystem::remove_all(dir_.path());
  testing_util::copy_host("k8s-node-nvme", dir_.path());
  const std::string root = (dir_.path() / "root").string();
  fake_->answer(root + "/", FsStats{1000, 400, 300, 4096, 500, 200});
  fake_->answer(root + "/srv/share", FsStats{10, 5, 5, 1048576, 0, 0});
  fake_->answer(root + "/srv/archive", FsStats{1, 0, 0, 4096, 1, 0});
  // Everything else answers EACCES, e.g. the kubelet volumes (as for node_exporter as nobody).
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  const std::string root_labels = mount_labels("/dev/nvme0n1p1", "ext4", "/");
  const std::string nfs = mount_labels("10.0.0.5:/export", "nfs4", "/srv/share");
  Snapshot s = sample_until(host, *source, [&](const Snapshot& snap) {
    const metrics::Family* f = snap.families.find("node_filesystem_device_error");
    return f && f->series.size() == 11;
  });
  EXPECT_EQ(value_of(s, "node_filesystem_size_bytes", root_labels), 1000.0 * 4096);
  EXPECT_EQ(value_of(s, "node_filesystem_free_bytes", root_labels), 400.0 * 4096);
  EXPECT_EQ(value_of(s, "node_filesystem_avail_bytes", root_labels), 300.0 * 4096);
  EXPECT_EQ(value_of(s, "node_filesystem_files", root_labels), 500);
  EXPECT_EQ(value_of(s, "node_filesystem_files_free", root_labels), 200);
  EXPECT_EQ(value_of(s, "node_filesystem_readonly", root_labels), 0);
  EXPECT_EQ(value_of(s, "node_filesystem_device_error", root_labels), 0);
  EXPECT_EQ(value_of(s, "node_filesystem_size_bytes", nfs), 10.0 * 1048576);
  const std::string archive = mount_labels("/dev/nvme0n1p3", "ext4", "/srv/archive");
  EXPECT_EQ(value_of(s, "node_filesystem_readonly", archive), 1);
  EXPECT_EQ(value_of(s, "node_filesystem_readonly",
                     mount_labels("/dev/nvme0n1p4", "ext4", "/mnt/backup")),
            1);
  // A failed statfs: device_error 1 and readonly, no sizes, one reason.
  const std::string vol = mount_labels(
      "tmpfs", "tmpfs",
      "/var/lib/kubelet/pods/4f0c2b8e-1d3a-4e5f-9a6b-7c8d9e0f1a2b/volumes/kubernetes.io~projected/"
      "kube-api-access-x2x9z");
  EXPECT_EQ(value_of(s, "node_filesystem_device_error", vol), 1);
  EXPECT_EQ(value_of(s, "node_filesystem_readonly", vol), 0);
  EXPECT_FALSE(value_of(s, "node_filesystem_size_bytes", vol));
  // Its reading in /v1/node names the path and the reason.
  const auto reading = std::find_if(s.filesystems.begin(), s.filesystems.end(), [](const auto& r) {
    return r.mountpoint.find("/var/lib/kubelet/pods/4f0c2b8e") == 0;
  });
  ASSERT_NE(reading, s.filesystems.end());
  EXPECT_EQ(reading->error.value_or("").find("statfs " + root + "/var/lib/kubelet/pods/4f0c2b8e"),
            0u);
  EXPECT_TRUE(has_error(s, "Permission denied"));
  // Mounts that fail alike are one line of errors (a node has hundreds of pod volumes).
  std::size_t denied = 0;
  for (const std::string& e : s.errors) denied += e.find("Permission denied") != std::string::npos;
  EXPECT_EQ(denied, 1u) << ::testing::PrintToString(s.errors);
  EXPECT_TRUE(has_error(s, " more mounts: Permission denied)"))
      << ::testing::PrintToString(s.errors);
  // The space came back from \040; excluded mount points and types are absent.
  EXPECT_TRUE(value_of(s, "node_filesystem_device_error",
                       mount_labels("/dev/nvme0n1p1", "ext4", "/srv/team data")));
  for (const metrics::Series& series : s.families.find("node_filesystem_device_error")->series) {
    for (const char* gone :
         {"mountpoint=\"/sys", "mountpoint=\"/proc\"", "mountpoint=\"/dev", "fstype=\"cgroup2\"",
          "fstype=\"overlay\"", "fstype=\"nsfs\"", "/run/credentials"}) {
      EXPECT_EQ(series.labels.view().find(gone), std::string::npos) << series.labels;
    }
  }
  // The bind duplicate of /var/lib/kubelet is one series.
  EXPECT_TRUE(value_of(s, "node_filesystem_device_error",
                       mount_labels("/dev/nvme1n1", "xfs", "/var/lib/kubelet")));
  ASSERT_EQ(s.filesystems.size(), 11u);
  EXPECT_EQ(s.filesystems[0].mountpoint, "/");  // sorted by device, type, mount point
  EXPECT_EQ(s.filesystems[0].size_bytes, 1000u * 4096);
  EXPECT_FALSE(s.filesystems[0].error);
}

TEST_F(FilesystemSourceTest, RemoteMountsAreStattedEvery15Seconds) {
  mountinfo(
      "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "2 1 0:45 / /srv/share rw - nfs4 10.0.0.5:/export rw\n");
  fake_->answer(root_ + "/", FsStats{1, 1, 1, 1, 1, 1});
  fake_->answer(root_ + "/srv/share", FsStats{2, 2, 2, 2, 2, 2});
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  host.sample(*source);
  ASSERT_TRUE(fake_->wait_calls(root_ + "/srv/share", 0));
  for (int i = 1; i <= 3; ++i) {
    host.sample(*source);  // local mounts every sample
    ASSERT_TRUE(fake_->wait_calls(root_ + "/", i));
  }
  EXPECT_EQ(fake_->calls(root_ + "/srv/share"), 1);
  host.clock().advance(15s);
  host.sample(*source);
  EXPECT_TRUE(fake_->wait_calls(root_ + "/srv/share", 1));
}

TEST_F(FilesystemSourceTest, MountTableChangesAreFollowed) {
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
  fake_->answer(root_ + "/", FsStats{1, 1, 1, 1, 1, 1});
  fake_->answer(root_ + "/data", FsStats{7, 1, 1, 1, 1, 1});
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  const std::string data = mount_labels("/dev/sdb1", "xfs", "/data");
  sample_until(host, *source, [](const Snapshot& s) { return !s.filesystems.empty(); });
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n3 1 8:17 / /data rw - xfs /dev/sdb1 rw\n");
  Snapshot s = sample_until(host, *source, [&](const Snapshot& snap) {
    return value_of(snap, "node_filesystem_size_bytes", data).has_value();
  });
  EXPECT_EQ(value_of(s, "node_filesystem_size_bytes", data), 7);
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
  s = host.sample(*source);
  EXPECT_FALSE(value_of(s, "node_filesystem_device_error", data));
  EXPECT_EQ(s.filesystems.size(), 1u);
}

TEST_F(FilesystemSourceTest, BadMountinfo) {
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\nnot a mount\n");
  fake_->answer(root_ + "/", FsStats{1, 1, 1, 1, 1, 1});
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(has_error(s, "1/mountinfo: skipped 1 lines, the first: line 2: "))
      << ::testing::PrintToString(s.errors);
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw");  // cut short
  s = host.sample(*source);
  EXPECT_TRUE(s.filesystems.empty());
  EXPECT_TRUE(has_error(s, "trailing newline"));
  std::filesystem::remove(dir_.path() / "proc/1/mountinfo");
  s = host.sample(*source);
  EXPECT_TRUE(has_error(s, "1/mountinfo: No such file or directory"));
}

// The hung NFS server: sample() returns while the call hangs, reports the mount stuck once the
// clock passes the timeout, stops statting it, and recovers when the call returns.
TEST_F(FilesystemSourceTest, HungStatfsIsReportedAndRecovers) {
  mountinfo(
      "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "2 1 0:45 / /srv/share rw - nfs4 10.0.0.5:/export rw\n");
  const std::string share = root_ + "/srv/share";
  fake_->answer(root_ + "/", FsStats{1, 1, 1, 1, 1, 1});
  fake_->answer(share, FsStats{9, 9, 9, 1, 9, 9});
  fake_->block(share);
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  const std::string nfs = mount_labels("10.0.0.5:/export", "nfs4", "/srv/share");

  host.sample(*source);
  ASSERT_TRUE(fake_->wait_inside(1));
  Snapshot s = host.sample(*source);  // returns although statfs hangs; not stuck yet
  EXPECT_FALSE(value_of(s, "node_filesystem_device_error", nfs));
  host.clock().advance(4900ms);
  s = host.sample(*source);
  EXPECT_FALSE(value_of(s, "node_filesystem_device_error", nfs));

  host.clock().advance(100ms);
  s = host.sample(*source);
  EXPECT_EQ(value_of(s, "node_filesystem_device_error", nfs), 1);
  EXPECT_EQ(value_of(s, "node_filesystem_readonly", nfs), 0);
  EXPECT_FALSE(value_of(s, "node_filesystem_size_bytes", nfs));
  EXPECT_TRUE(has_error(s, "statfs " + share + ": no answer for 5s"));

  // A new worker statfs's the other mounts and skips the stuck one, even when it is due.
  const int root_calls = fake_->calls(root_ + "/");
  host.clock().advance(15s);
  s = host.sample(*source);
  ASSERT_TRUE(fake_->wait_calls(root_ + "/", root_calls));
  s = host.sample(*source);
  EXPECT_EQ(fake_->calls(share), 1);
  EXPECT_EQ(value_of(s, "node_filesystem_device_error", nfs), 1);
  EXPECT_EQ(value_of(s, "node_filesystem_device_error", mount_labels("/dev/sda1", "ext4", "/")), 0);

  fake_->release_all();
  s = sample_until(host, *source, [&](const Snapshot& snap) {
    return value_of(snap, "node_filesystem_device_error", nfs) == 0;
  });
  EXPECT_EQ(value_of(s, "node_filesystem_size_bytes", nfs), 9);
  EXPECT_FALSE(has_error(s, "no answer"));
}

TEST_F(FilesystemSourceTest, StopsStattingAfterEightHungCallsUntilOneReturns) {
  std::string text;
  for (int i = 1; i <= 9; ++i) {
    text += std::to_string(i) + " 0 8:" + std::to_string(i) + " / /m" + std::to_string(i) +
            " rw - ext4 /dev/sd" + std::to_string(i) + " rw\n";
    fake_->answer(root_ + "/m" + std::to_string(i), FsStats{1, 1, 1, 1, 1, 1});
  }
  mountinfo(text);
  fake_->block_all();
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  for (int hung = 1; hung <= 8; ++hung) {
    ASSERT_TRUE(fake_->wait_inside(hung)) << hung;
    host.sample(*source);  // sees the call
    host.clock().advance(5s);
    s = host.sample(*source);  // abandons its worker
    const std::string labels =
        mount_labels("/dev/sd" + std::to_string(hung), "ext4", "/m" + std::to_string(hung));
    EXPECT_EQ(value_of(s, "node_filesystem_device_error", labels), 1) << hung;
  }
  EXPECT_TRUE(has_error(s, "statfs: 8 calls have not returned"));
  s = host.sample(*source);
  EXPECT_TRUE(has_error(s, "statfs: 8 calls have not returned"));
  EXPECT_EQ(fake_->calls(root_ + "/m9"), 0);

  fake_->release_all();
  s = sample_until(host, *source, [](const Snapshot& snap) {
    const metrics::Family* f = snap.families.find("node_filesystem_size_bytes");
    return f && f->series.size() == 9;
  });
  EXPECT_FALSE(has_error(s, "calls have not returned"));
  EXPECT_GE(fake_->calls(root_ + "/m9"), 1);
}

TEST_F(FilesystemSourceTest, DestructorDoesNotWaitForAHungCall) {
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
  fake_->block(root_ + "/");
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  host.sample(*source);
  ASSERT_TRUE(fake_->wait_inside(1));
  source.reset();  // returns: the busy worker is left to finish on its own
  fake_->release_all();
  // The worker's call returns into state it shares with nobody now; nothing to observe but that
  // this test ends cleanly (and under sanitizers, without a use after free).
}

TEST_F(FilesystemSourceTest, DestructorJoinsAnIdleWorker) {
  mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
  fake_->answer(root_ + "/", FsStats{1, 1, 1, 1, 1, 1});
  SourceHost host(dir_.path());
  auto source = make(host);
  ASSERT_TRUE(source);
  sample_until(host, *source, [](const Snapshot& s) { return !s.filesystems.empty(); });
  source.reset();
  EXPECT_EQ(fake_.use_count(), 1);  // the joined worker released its copy of the function
}

}  // namespace
}  // namespace nodeagent::nodeinfo
