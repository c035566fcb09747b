#pragma once
// Every read of a mounted procfs or sysfs goes through a HostRoot: one root directory, opened
// once as a directory fd so the agent can drop privileges and still read relative to it
// afterwards. The host's roots are arguments (the agent runs in a pod with the host's procfs at
// /host/proc) and come as a HostFs, the pair {procfs, sysfs}; the agent's own process is read
// through a HostRoot on its own /proc/self.
//
// Thread-safety: const methods may be called concurrently; they only use the directory fd,
// which is immutable for the object's lifetime. Moving from an object is not thread-safe.

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// Errors are Error{code, detail}: the code is the errno (system_category), EINVAL for a bad
// relative path, EFBIG over kMaxHostFileSize, EISDIR for a directory, or a HostFsError; the
// detail is the path that failed ("/host/proc" for a root, "/host/proc/loadavg" for a file).
// "<path>: <reason>" lines keep the path first: describe_path_error(e), or HostRoot::reason()
// with e.code.message().

// Refusals of HostRoot beyond an errno (category "host_fs"; other errors are system_category).
enum class HostFsError {
  // A FIFO, device or socket under the root: reading one can block the sampler forever.
  kNotRegularFile = 1000,
  // A symlink (or "..") would lead outside the root (the kernel says EXDEV).
  kOutsideRoot,
};
const boost::system::error_category& host_fs_category() noexcept;
boost::system::error_code make_error_code(HostFsError e) noexcept;

// Reads are refused beyond this size (EFBIG): the biggest file we read, /proc/stat of a
// 4096-cpu host, is well under 1 MiB, and the sampler keeps its buffer at the largest size seen.
inline constexpr std::size_t kMaxHostFileSize = 4 * 1024 * 1024;

// Every file is opened below its root without leaving it (see open_beneath.h: symlinks are
// followed only while they stay beneath), with O_NONBLOCK so that opening a FIFO cannot block,
// and is refused unless it is a regular file (procfs and sysfs files are): HostFsError.

// One file below a HostRoot, kept open so it can be read again without a path lookup.
// On procfs and sysfs each read is a pread at offset 0 (again with a bigger buffer if the content
// filled it), which makes the kernel generate fresh content; that costs about a third of
// open+read+close (measured on seven procfs files: 18 us vs 57 us). The buffer asked for is the
// file's last size and a half, not a fixed one (sysctl files allocate what a read asks for).
// A read shorter than the buffer is taken as the whole file, which holds
// for procfs files generated as one record (single_open: uptime, loadavg, stat, meminfo,
// pressure/*, sys/*) and for sysfs attributes (one value each), not for multi-record ones like
// mountinfo. Other filesystems are read like a normal file from the start until EOF.
// Movable, not copyable. Thread-safety: read() mutates nothing but `out`, but concurrent reads of
// one HostFile are not supported (one sampler thread owns it).
class HostFile {
 public:
  HostFile() = default;
  HostFile(HostFile&& other) noexcept;
  HostFile& operator=(HostFile&& other) noexcept;
  HostFile(const HostFile&) = delete;
  HostFile& operator=(const HostFile&) = delete;
  ~HostFile();

  bool is_open() const noexcept { return fd_ >= 0; }
  // On procfs or sysfs: the kernel regenerates the content on every read at offset 0, so the
  // file is worth keeping open. Elsewhere (fixture trees) it is read like a normal file.
  bool kernel_generated() const noexcept { return kernel_generated_; }
  // Whole content into `out` (capacity reused); on failure `out` is empty and the error carries
  // the errno, with an empty detail (the caller knows which file it opened).
  Result<void> read(std::string& out) const;
  // Whole content from offset 0 by sequential reads until EOF, also on procfs: for multi-record
  // seq_files (diskstats, net/dev, vmstat, mountinfo), where one read may stop at a page. Moves
  // the file offset, so (like read()) not for concurrent use of one HostFile.
  Result<void> read_all(std::string& out) const;
  // For a procfs mount table (<pid>/mountinfo): whether its mount namespace changed since the
  // file was opened or since the last call, as the kernel signals with POLLPRI (procfs(5)).
  // True when it cannot tell (not open, or poll failed). Regenerating mountinfo costs more than
  // any other file of a sample (34 us for 25 mounts here, and a node has hundreds).
  bool mounts_changed() const;

 private:
  friend class HostRoot;
  HostFile(int fd, bool kernel_generated) : fd_(fd), kernel_generated_(kernel_generated) {}
  int fd_ = -1;
  bool kernel_generated_ = false;
  // The size of the last read: the next one asks the kernel for a little more than that, not
  // for the whole scratch buffer (sysctl files allocate what is asked for).
  mutable std::size_t last_size_ = 0;
};

// One mounted root directory.
class HostRoot {
 public:
  // Opens the root (O_PATH|O_DIRECTORY|O_CLOEXEC). The error's detail is the root, its code
  // the errno.
  static Result<HostRoot> open(std::filesystem::path root);

  HostRoot(HostRoot&& other) noexcept;
  HostRoot& operator=(HostRoot&& other) noexcept;
  HostRoot(const HostRoot&) = delete;
  HostRoot& operator=(const HostRoot&) = delete;
  ~HostRoot();

  // Opens a file below the root for reading (see HostFile), e.g. open_file("loadavg"),
  // open_file("pressure/cpu"). `relative` must be relative and must not contain ".." (EINVAL
  // otherwise). The error's detail is "<root>/<relative>".
  Result<HostFile> open_file(std::string_view relative) const;

  // open_file() and one read, for a file read once; a failed read also names
  // "<root>/<relative>".
  Result<std::string> read_file(std::string_view relative) const;

  // st_ino of the file, e.g. inode("self/ns/net"). The directories on the way are resolved
  // beneath the root; on procfs the last component is followed even when it is a magic link
  // (ns/* are: their inode is the namespace's identity), elsewhere only while it stays beneath
  // the root. The error's detail is "<root>/<relative>".
  Result<std::uint64_t> inode(std::string_view relative) const;

  // How many entries the directory `relative` has besides "." and ".." (and names starting
  // with '.'), not counting the descriptor the listing itself uses, so that on /proc/self,
  // count_entries("fd") is the number of the process's other open descriptors. The error's
  // detail is "<root>/<relative>".
  Result<std::uint64_t> count_entries(std::string_view relative) const;

  // Whether the current user can list and search the root (read and execute permission);
  // checked after dropping privileges, since the root was opened before. The error's detail is
  // the root, its code the errno (EACCES).
  Result<void> check_readable() const;

  // One-line reason below the root: reason("loadavg", ec.message()) is
  // "/host/proc/loadavg: No such file or directory".
  std::string reason(std::string_view relative, std::string_view what) const;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  HostRoot(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::filesystem::path path_;
  int fd_ = -1;
};

// The host's two mounts, each its own root.
struct HostFs {
  // Opens procfs, then sysfs (see HostRoot::open).
  static Result<HostFs> open(std::filesystem::path procfs, std::filesystem::path sysfs);
  // Every root's check_readable(): procfs, sysfs, then rootfs when set.
  Result<void> check_readable() const;

  HostRoot procfs;
  HostRoot sysfs;
  // --rootfs: the host's / (read-only), for statfs of its mounts and its os-release; empty
  // when not given, which turns those sources off.
  std::optional<HostRoot> rootfs;
};

// "<root>/<relative>: <what>" without doubling slashes; used for every one-line reason.
std::string describe_path_error(const std::filesystem::path& root, std::string_view relative,
                                std::string_view what);
// The same line for a HostRoot error: "<detail>: <code's message>", e.g.
// "/host/proc: Permission denied" (Error::message() would put the kind first).
std::string describe_path_error(const Error& e);

}  // namespace nodeagent::nodeinfo

template <>
struct boost::system::is_error_code_enum<nodeagent::nodeinfo::HostFsError> : std::true_type {};
