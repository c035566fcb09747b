#pragma once
// The filesystem source's pure parts: the host's mount table (<procfs>/1/mountinfo) parsed into
// mounts, and the statfs(2) numbers a mount reports. The source itself (filesystem.cc) statfs's
// every kept mount below --rootfs on a worker thread of its own, since a dead NFS server can make
// statfs sleep for ever.
//
// Thread-safety: the parser is pure; the source follows source.h (sampler thread only) and keeps
// its worker's state to itself.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nodeagent/error.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {

// One line of mountinfo: "36 35 98:0 /root /mnt rw,noatime master:1 - ext4 /dev/sda1 rw".
struct MountEntry {
  std::string device;      // the mount source (after " - " and the type), as the kernel printed it
  std::string mountpoint;  // field 5 with \040 \011 \012 \134 turned back into their characters
  std::string fstype;      // e.g. "ext4", "nfs4", "fuse.sshfs"
  bool readonly = false;   // "ro" among the per-mount options or the super block options

  bool operator==(const MountEntry&) const = default;
};

// Bounds against a hostile or broken table (a Kubernetes node has a few hundred mounts).
inline constexpr std::size_t kMaxMounts = 4096;
inline constexpr std::size_t kMaxMountinfoLine = 64 * 1024;
inline constexpr std::size_t kMaxMountPath = 4096;  // PATH_MAX, for the unescaped mount point
inline constexpr std::size_t kMaxFsTypeLength = 256;

struct MountTable {
  // In file order, one entry per (device, mountpoint, fstype): a later duplicate (the mount on
  // top) replaces an earlier one and takes its place in the order.
  std::vector<MountEntry> mounts;
  std::size_t skipped_lines = 0;  // lines that did not parse, or beyond kMaxMounts
  std::string first_skip;         // why the first of them was skipped, "line 7: ..."
};

// mountinfo as proc_pid_mountinfo(5) describes it. Lines that do not parse are skipped and
// counted (a table is still useful without one odd entry); the whole text is refused when it
// does not end in a newline (a short read) or holds no mount at all.
Result<MountTable> parse_mountinfo(std::string_view text);

// Turns the kernel's four octal escapes (\040 space, \011 tab, \012 newline, \134 backslash)
// back into their characters; any other backslash is kept as it is.
std::string unescape_mount_path(std::string_view s);

// Whether the comma-separated option list holds `option` as a whole entry ("ro", not "errors=ro").
bool has_mount_option(std::string_view options, std::string_view option);

// What statfs(2) says about a mounted filesystem (struct statfs's fields of the same names).
struct FsStats {
  std::uint64_t blocks = 0;  // f_blocks, in units of bsize
  std::uint64_t bfree = 0;   // f_bfree
  std::uint64_t bavail = 0;  // f_bavail: free for unprivileged users
  std::uint64_t bsize = 0;   // f_bsize
  std::uint64_t files = 0;   // f_files: inodes
  std::uint64_t ffree = 0;   // f_ffree
};

// statfs of one path (e.g. "/host/root/var/lib/kubelet"); the error's code is the errno. Called
// on the source's worker threads, several at once when one hangs, so it must be thread-safe and
// must not refer to anything that can be freed before it returns.
using StatfsFunction = std::function<Result<FsStats>(const std::string& path)>;

// The real statfs(2).
Result<FsStats> statfs_path(const std::string& path);

// The registry's factory uses statfs_path; tests pass their own.
Result<std::unique_ptr<Source>> make_filesystem_source(const SourceOptions& options,
                                                       StatfsFunction statfs);

}  // namespace nodeagent::nodeinfo
