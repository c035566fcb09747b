#include "nodeinfo/host_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

#include "nodeinfo/open_beneath.h"

namespace nodeagent::nodeinfo {
namespace {

constexpr std::size_t kMaxFileSize = kMaxHostFileSize;
constexpr std::size_t kInitialBuffer = 4096;

// Categories are never deleted through the base (its destructor is protected and non-virtual).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class HostFsCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "nodeagent.nodeinfo.host_fs"; }
  std::string message(int ev) const override {
    switch (static_cast<HostFsError>(ev)) {
      case HostFsError::kNotRegularFile:
        return "not a regular file (FIFOs, devices and sockets are refused: they can block)";
      case HostFsError::kOutsideRoot:
        return "resolves outside the root (a symlink leads out of it)";
    }
    return "unknown host_fs error";
  }
};
#pragma GCC diagnostic pop

boost::system::error_code errno_code(int err) { return {err, boost::system::system_category()}; }

// openat() needs a NUL-terminated path; relative paths we use are short, so copy onto the stack.
// Absolute paths and ".." components would escape the root the caller chose: reject them.
bool to_relative_cstr(std::string_view relative, std::array<char, 512>& buf) {
  if (relative.empty() || relative.front() == '/' || relative.size() >= buf.size()) return false;
  if (relative.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= relative.size()) {
    std::size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    if (relative.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  std::memcpy(buf.data(), relative.data(), relative.size());
  buf[relative.size()] = '\0';
  return true;
}

boost::system::error_code beneath_error(const boost::system::error_code& ec) {
  if (ec == boost::system::errc::cross_device_link) {
    return make_error_code(HostFsError::kOutsideRoot);
  }
  // open() says ENXIO for a unix socket (and a device without a driver), never for a regular file.
  if (ec == boost::system::errc::no_such_device_or_address) {
    return make_error_code(HostFsError::kNotRegularFile);
  }
  return ec;
}

// Opens below the root, non-blocking, and only a regular file (a directory is EISDIR).
boost::system::result<int> open_regular(int root_fd, std::string_view relative) {
  std::array<char, 512> path{};
  if (!to_relative_cstr(relative, path)) return errno_code(EINVAL);
  auto fd = open_beneath(root_fd, path.data(), O_RDONLY | O_NONBLOCK);
  if (!fd) return beneath_error(fd.error());
  struct stat st {};
  if (::fstat(*fd, &st) != 0) {
    const int err = errno;
    ::close(*fd);
    return errno_code(err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(*fd);
    if (S_ISDIR(st.st_mode)) return errno_code(EISDIR);
    return make_error_code(HostFsError::kNotRegularFile);
  }
  return *fd;
}

// Reads an open regular file from its current offset (0) to EOF, at most kMaxFileSize.
boost::system::error_code read_opened(int fd, std::string& out) {
  out.clear();
  if (out.capacity() < kInitialBuffer) out.reserve(kInitialBuffer);
  std::size_t used = 0;
  boost::system::error_code ec;
  for (;;) {
    if (used == out.size()) {
      if (out.size() >= kMaxFileSize) {
        ec = errno_code(EFBIG);
        break;
      }
      // resize() up to capacity is cheap; beyond it, grow geometrically.
      out.resize(std::max(out.capacity(), used * 2));
    }
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = errno_code(errno);
      break;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(ec ? 0 : used);
  return ec;
}

boost::system::error_code read_at(int dir_fd, std::string_view relative, std::string& out) {
  out.clear();
  auto fd = open_regular(dir_fd, relative);
  if (!fd) return fd.error();
  const auto ec = read_opened(*fd, out);
  ::close(*fd);
  return ec;
}

// On procfs every read at offset 0 regenerates the whole file into the kernel's buffer and
// copies as much as fits, so a read shorter than the buffer is the complete file. If it fills
// the buffer, retry from offset 0 with a bigger one rather than continue at an offset (which
// would make the kernel generate the content again and could splice two different readings).
boost::system::error_code pread_generated(int fd, std::string& out) {
  if (out.capacity() < kInitialBuffer) out.reserve(kInitialBuffer);
  out.resize(out.capacity());
  for (;;) {
    const ssize_t n = ::pread(fd, out.data(), out.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      out.clear();
      return errno_code(err);
    }
    if (static_cast<std::size_t>(n) < out.size()) {
      out.resize(static_cast<std::size_t>(n));
      return {};
    }
    if (out.size() >= kMaxFileSize) {
      out.clear();
      return errno_code(EFBIG);
    }
    out.resize(out.size() * 2);
  }
}

boost::system::error_code pread_regular(int fd, std::string& out) {
  out.clear();
  if (out.capacity() < kInitialBuffer) out.reserve(kInitialBuffer);
  std::size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() >= kMaxFileSize) {
        out.clear();
        return errno_code(EFBIG);
      }
      out.resize(std::max(out.capacity(), used * 2));
    }
    const ssize_t n = ::pread(fd, out.data() + used, out.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      out.clear();
      return errno_code(err);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return {};
}

int open_root(const std::filesystem::path& root) {
  return ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

}  // namespace

const boost::system::error_category& host_fs_category() noexcept {
  static const HostFsCategory category;
  return category;
}

boost::system::error_code make_error_code(HostFsError e) noexcept {
  return {static_cast<int>(e), host_fs_category()};
}

HostFile::HostFile(HostFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), kernel_generated_(other.kernel_generated_) {}

HostFile& HostFile::operator=(HostFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    kernel_generated_ = other.kernel_generated_;
  }
  return *this;
}

HostFile::~HostFile() {
  if (fd_ >= 0) ::close(fd_);
}

boost::system::error_code HostFile::read(std::string& out) const {
  if (fd_ < 0) {
    out.clear();
    return errno_code(EBADF);
  }
  return kernel_generated_ ? pread_generated(fd_, out) : pread_regular(fd_, out);
}

std::string OpenError::message() const { return describe_path_error(path, {}, code.message()); }

void throw_exception_from_error(const OpenError& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(e.code, e.message()), loc);
}

std::string describe_path_error(const std::filesystem::path& root, std::string_view relative,
                                std::string_view what) {
  std::string out = root.native();
  if (!relative.empty()) {
    if (out.empty() || out.back() != '/') out.push_back('/');
    out.append(relative);
  }
  out.append(": ");
  out.append(what);
  return out;
}

boost::system::result<HostFs, OpenError> HostFs::open(std::filesystem::path procfs,
                                                      std::filesystem::path sysfs) {
  const int proc_fd = open_root(procfs);
  if (proc_fd < 0) return OpenError{std::move(procfs), errno_code(errno)};
  const int sys_fd = open_root(sysfs);
  if (sys_fd < 0) {
    const int err = errno;
    ::close(proc_fd);
    return OpenError{std::move(sysfs), errno_code(err)};
  }
  return HostFs(std::move(procfs), proc_fd, std::move(sysfs), sys_fd);
}

HostFs::HostFs(std::filesystem::path procfs, int proc_fd, std::filesystem::path sysfs, int sys_fd)
    : procfs_(std::move(procfs)), sysfs_(std::move(sysfs)), proc_fd_(proc_fd), sys_fd_(sys_fd) {}

HostFs::HostFs(HostFs&& other) noexcept
    : procfs_(std::move(other.procfs_)),
      sysfs_(std::move(other.sysfs_)),
      proc_fd_(std::exchange(other.proc_fd_, -1)),
      sys_fd_(std::exchange(other.sys_fd_, -1)) {}

HostFs& HostFs::operator=(HostFs&& other) noexcept {
  if (this != &other) {
    close_fds();
    procfs_ = std::move(other.procfs_);
    sysfs_ = std::move(other.sysfs_);
    proc_fd_ = std::exchange(other.proc_fd_, -1);
    sys_fd_ = std::exchange(other.sys_fd_, -1);
  }
  return *this;
}

HostFs::~HostFs() { close_fds(); }

void HostFs::close_fds() noexcept {
  if (proc_fd_ >= 0) ::close(proc_fd_);
  if (sys_fd_ >= 0) ::close(sys_fd_);
  proc_fd_ = sys_fd_ = -1;
}

boost::system::result<std::string> HostFs::read_proc(std::string_view relative) const {
  std::string out;
  if (auto ec = read_at(proc_fd_, relative, out)) return ec;
  return out;
}

boost::system::result<std::string> HostFs::read_sys(std::string_view relative) const {
  std::string out;
  if (auto ec = read_at(sys_fd_, relative, out)) return ec;
  return out;
}

boost::system::error_code HostFs::read_proc_into(std::string_view relative,
                                                 std::string& out) const {
  return read_at(proc_fd_, relative, out);
}

boost::system::error_code HostFs::read_sys_into(std::string_view relative, std::string& out) const {
  return read_at(sys_fd_, relative, out);
}

boost::system::result<HostFile> HostFs::open_file(int root_fd, std::string_view relative) {
  auto opened = open_regular(root_fd, relative);
  if (!opened) return opened.error();
  const int fd = *opened;
  struct statfs sfs {};
  constexpr long kProcSuperMagic = 0x9fa0;  // PROC_SUPER_MAGIC, <linux/magic.h>
  constexpr long kSysfsMagic = 0x62656572;  // SYSFS_MAGIC
  const bool generated =
      ::fstatfs(fd, &sfs) == 0 && (static_cast<long>(sfs.f_type) == kProcSuperMagic ||
                                   static_cast<long>(sfs.f_type) == kSysfsMagic);
  return HostFile(fd, generated);
}

boost::system::result<HostFile> HostFs::open_proc_file(std::string_view relative) const {
  return open_file(proc_fd_, relative);
}

boost::system::result<HostFile> HostFs::open_sys_file(std::string_view relative) const {
  return open_file(sys_fd_, relative);
}

std::optional<std::uint64_t> HostFs::proc_inode(std::string_view relative) const {
  std::array<char, 512> path{};
  if (!to_relative_cstr(relative, path)) return std::nullopt;
  const std::string_view rel(path.data(), relative.size());
  const std::size_t slash = rel.rfind('/');
  const std::string_view dir = slash == std::string_view::npos ? "." : rel.substr(0, slash);
  const std::string last(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  auto parent = open_beneath(proc_fd_, dir, O_PATH | O_DIRECTORY);
  if (!parent) return std::nullopt;
  struct stat st {};
  struct statfs sfs {};
  constexpr long kProcSuperMagic = 0x9fa0;
  bool ok = false;
  if (::fstatfs(*parent, &sfs) == 0 && static_cast<long>(sfs.f_type) == kProcSuperMagic) {
    // procfs's links are the kernel's own (ns/*, self): following the last one is safe.
    ok = ::fstatat(*parent, last.c_str(), &st, 0) == 0;
  } else if (auto fd = open_beneath(*parent, last, O_PATH)) {
    ok = ::fstat(*fd, &st) == 0;
    ::close(*fd);
  }
  ::close(*parent);
  if (!ok) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_ino);
}

boost::system::result<void, OpenError> HostFs::check_readable() const {
  for (const auto& [root, fd] : {std::pair{&procfs_, proc_fd_}, std::pair{&sysfs_, sys_fd_}}) {
    // Opening "." for reading needs search (x) and read (r) permission on the root itself.
    const int dir = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return OpenError{*root, errno_code(errno)};
    ::close(dir);
  }
  return {};
}

std::string HostFs::proc_reason(std::string_view relative, boost::system::error_code ec) const {
  return describe_path_error(procfs_, relative, ec.message());
}

std::string HostFs::sys_reason(std::string_view relative, boost::system::error_code ec) const {
  return describe_path_error(sysfs_, relative, ec.message());
}

std::string HostFs::proc_reason(std::string_view relative, std::string_view what) const {
  return describe_path_error(procfs_, relative, what);
}

std::string HostFs::sys_reason(std::string_view relative, std::string_view what) const {
  return describe_path_error(sysfs_, relative, what);
}

}  // namespace nodeagent::nodeinfo
