#pragma once
// Every read of the host's /proc and /sys goes through a HostFs. The roots are arguments (the
// agent runs in a pod with the host's procfs at /host/proc), and both are opened once as
// directory fds so the agent can drop privileges and still read relative to them afterwards.
//
// Thread-safety: const methods may be called concurrently; they only use the directory fds,
// which are immutable for the object's lifetime. Moving from an object is not thread-safe.

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace nodeagent::nodeinfo {

// Refusals of HostFs beyond an errno (category "host_fs"; other errors are system_category).
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

// Why HostFs::open failed: which root and the errno. Converts to error_code, so
// `boost::system::result<HostFs> r = HostFs::open(...)` also compiles (losing the path).
struct OpenError {
  std::filesystem::path path;
  boost::system::error_code code;

  // "/host/proc: No such file or directory"
  std::string message() const;
  operator boost::system::error_code() const { return code; }  // NOLINT: implicit on purpose
};

// Lets result<HostFs, OpenError>::value() throw a system_error carrying the message.
[[noreturn]] void throw_exception_from_error(const OpenError& e, const boost::source_location& loc);

// Every file is opened below its root without leaving it (see open_beneath.h: symlinks are
// followed only while they stay beneath), with O_NONBLOCK so that opening a FIFO cannot block,
// and is refused unless it is a regular file (procfs and sysfs files are): HostFsError.

// One file below a HostFs root, kept open so it can be read again without a path lookup.
// On procfs and sysfs each read is a single pread at offset 0, which makes the kernel generate
// fresh content; that costs about a third of open+read+close (measured: 18 us vs 57 us for the
// sampler's seven files). A read shorter than the buffer is taken as the whole file, which holds
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
  // Whole content into `out` (capacity reused); errno on failure, `out` then empty.
  boost::system::error_code read(std::string& out) const;

 private:
  friend class HostFs;
  HostFile(int fd, bool kernel_generated) : fd_(fd), kernel_generated_(kernel_generated) {}
  int fd_ = -1;
  bool kernel_generated_ = false;
};

class HostFs {
 public:
  // Opens both roots (O_PATH|O_DIRECTORY|O_CLOEXEC). The error names the root that failed.
  static boost::system::result<HostFs, OpenError> open(std::filesystem::path procfs,
                                                       std::filesystem::path sysfs);

  HostFs(HostFs&& other) noexcept;
  HostFs& operator=(HostFs&& other) noexcept;
  HostFs(const HostFs&) = delete;
  HostFs& operator=(const HostFs&) = delete;
  ~HostFs();

  // Reads a whole file below the procfs/sysfs root, e.g. read_proc("loadavg"),
  // read_proc("pressure/cpu"). `relative` must be relative and must not contain "..";
  // errors carry the errno (system_category), EINVAL for a bad path, EFBIG over
  // kMaxHostFileSize, EISDIR for a directory, or a HostFsError.
  boost::system::result<std::string> read_proc(std::string_view relative) const;
  boost::system::result<std::string> read_sys(std::string_view relative) const;

  // Same, but reuses `out`'s capacity (the sampler reads the same files every second).
  // On error `out` is left empty.
  boost::system::error_code read_proc_into(std::string_view relative, std::string& out) const;
  boost::system::error_code read_sys_into(std::string_view relative, std::string& out) const;

  // Opens a file for repeated reads (see HostFile). Same path rules and errors as read_proc.
  boost::system::result<HostFile> open_proc_file(std::string_view relative) const;
  boost::system::result<HostFile> open_sys_file(std::string_view relative) const;

  // st_ino of the file, e.g. proc_inode("self/ns/net"); nullopt on error. The directories on
  // the way are resolved beneath the root; on procfs the last component is followed even when
  // it is a magic link (ns/* are: their inode is the namespace's identity), elsewhere only
  // while it stays beneath the root.
  std::optional<std::uint64_t> proc_inode(std::string_view relative) const;

  // Whether the current user can list and search both roots (read and execute permission);
  // checked after dropping privileges, since the roots were opened before. The error names the
  // root: "/host/proc: Permission denied".
  boost::system::result<void, OpenError> check_readable() const;

  // One-line reasons: "/host/proc/loadavg: No such file or directory".
  std::string proc_reason(std::string_view relative, boost::system::error_code ec) const;
  std::string sys_reason(std::string_view relative, boost::system::error_code ec) const;
  std::string proc_reason(std::string_view relative, std::string_view what) const;
  std::string sys_reason(std::string_view relative, std::string_view what) const;

  const std::filesystem::path& procfs() const noexcept { return procfs_; }
  const std::filesystem::path& sysfs() const noexcept { return sysfs_; }

 private:
  HostFs(std::filesystem::path procfs, int proc_fd, std::filesystem::path sysfs, int sys_fd);
  static boost::system::result<HostFile> open_file(int root_fd, std::string_view relative);
  void close_fds() noexcept;

  std::filesystem::path procfs_;
  std::filesystem::path sysfs_;
  int proc_fd_ = -1;
  int sys_fd_ = -1;
};

// "<root>/<relative>: <what>" without doubling slashes; used for every one-line reason.
std::string describe_path_error(const std::filesystem::path& root, std::string_view relative,
                                std::string_view what);

}  // namespace nodeagent::nodeinfo

template <>
struct boost::system::is_error_code_enum<nodeagent::nodeinfo::HostFsError> : std::true_type {};
