#include "nodeinfo/host_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "nodeinfo/open_beneath.h"

namespace nodeagent::nodeinfo {
namespace {

constexpr std::size_t kMaxFileSize = kMaxHostFileSize;
constexpr std::size_t kInitialBuffer = 4096;
constexpr long kProcSuperMagic = 0x9fa0;  // PROC_SUPER_MAGIC, <linux/magic.h>
constexpr long kSysfsMagic = 0x62656572;  // SYSFS_MAGIC

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

// The kernel writes into this thread's scratch buffer, which is never zero-filled, and only the
// bytes read are copied into the caller's string: growing a std::string to its capacity before a
// read would clear all of it first, which cost a third of a sample's CPU. It grows (to the
// largest file this thread has read) and is never shrunk.
class Scratch {
 public:
  // Beyond this the buffer is given back after the read (a hostile or huge file must not keep
  // the agent's memory up); a 4096-cpu host's /proc/stat is well below.
  static constexpr std::size_t kKeep = 256 * 1024;

  char* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  void trim() {
    if (size_ > kKeep) {
      data_.reset();
      size_ = 0;
    }
  }
  // At least `n` bytes; the first `keep` bytes survive.
  void grow(std::size_t n, std::size_t keep = 0) {
    if (n <= size_) return;
    auto bigger = std::make_unique_for_overwrite<char[]>(n);
    if (keep > 0) std::memcpy(bigger.get(), data_.get(), keep);
    data_ = std::move(bigger);
    size_ = n;
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

Scratch& scratch() {
  thread_local Scratch s;
  s.grow(kInitialBuffer);
  return s;
}

// On procfs every read at offset 0 regenerates the whole file into the kernel's buffer and
// copies as much as fits, so a read shorter than the buffer is the complete file. If it fills
// the buffer, retry from offset 0 with a bigger one rather than continue at an offset (which
// would make the kernel generate the content again and could splice two different readings).
// `last_size`: the file's size at the last read; it is asked for with room to grow by half.
boost::system::error_code pread_generated(int fd, std::string& out, std::size_t last_size) {
  out.clear();
  Scratch& buf = scratch();
  std::size_t want =
      std::min(kMaxFileSize, std::max(kInitialBuffer, last_size + last_size / 2 + 1));
  for (;;) {
    buf.grow(want);
    const ssize_t n = ::pread(fd, buf.data(), want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      buf.trim();
      return errno_code(err);
    }
    if (static_cast<std::size_t>(n) < want) {
      out.assign(buf.data(), static_cast<std::size_t>(n));
      buf.trim();
      return {};
    }
    if (want >= kMaxFileSize) {
      buf.trim();
      return errno_code(EFBIG);
    }
    want = std::min(kMaxFileSize, want * 2);
  }
}

// The whole file by `read_at(buffer, length, offset)` calls until one returns 0 (EOF).
template <class ReadAt>
boost::system::error_code read_to_eof(std::string& out, ReadAt read_at) {
  out.clear();
  Scratch& buf = scratch();
  std::size_t used = 0;
  for (;;) {
    if (used == buf.size()) {
      if (buf.size() >= kMaxFileSize) {
        buf.trim();
        return errno_code(EFBIG);
      }
      buf.grow(std::min(kMaxFileSize, buf.size() * 2), used);
    }
    const ssize_t n = read_at(buf.data() + used, buf.size() - used, used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      buf.trim();
      return errno_code(err);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.assign(buf.data(), used);
  buf.trim();
  return {};
}

boost::system::error_code pread_regular(int fd, std::string& out) {
  return read_to_eof(out, [fd](char* p, std::size_t len, std::size_t offset) {
    return ::pread(fd, p, len, static_cast<off_t>(offset));
  });
}

// "<root>/<relative>" without doubling slashes.
std::string join(const std::filesystem::path& root, std::string_view relative) {
  std::string out = root.native();
  if (!relative.empty()) {
    if (out.empty() || out.back() != '/') out.push_back('/');
    out.append(relative);
  }
  return out;
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
    : fd_(std::exchange(other.fd_, -1)),
      kernel_generated_(other.kernel_generated_),
      last_size_(other.last_size_) {}

HostFile& HostFile::operator=(HostFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    kernel_generated_ = other.kernel_generated_;
    last_size_ = other.last_size_;
  }
  return *this;
}

HostFile::~HostFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> HostFile::read(std::string& out) const {
  boost::system::error_code ec;
  if (fd_ < 0) {
    out.clear();
    ec = errno_code(EBADF);
  } else {
    ec = kernel_generated_ ? pread_generated(fd_, out, last_size_) : pread_regular(fd_, out);
    last_size_ = out.size();
  }
  if (ec) return Error{ec, {}};
  return {};
}

namespace {

// From offset 0 by read(2) until EOF. A seq_file (procfs' multi-record files) continues a
// sequential read where it stopped, whereas a pread at a later offset makes the kernel generate
// the file again from the start up to it: with pread a file of n pages would cost n^2/2 pages.
boost::system::error_code read_sequential(int fd, std::string& out) {
  if (::lseek(fd, 0, SEEK_SET) < 0) {
    out.clear();
    return errno_code(errno);
  }
  return read_to_eof(out,
                     [fd](char* p, std::size_t len, std::size_t) { return ::read(fd, p, len); });
}

}  // namespace

Result<void> HostFile::read_all(std::string& out) const {
  boost::system::error_code ec = fd_ < 0 ? errno_code(EBADF) : read_sequential(fd_, out);
  if (ec) {
    out.clear();
    return Error{ec, {}};
  }
  return {};
}

bool HostFile::mounts_changed() const {
  if (fd_ < 0 || !kernel_generated_) return true;
  pollfd p{fd_, POLLPRI, 0};
  int n = 0;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n != 0;  // 1: POLLPRI|POLLERR (changed) or POLLNVAL; -1: cannot tell
}

std::string describe_path_error(const std::filesystem::path& root, std::string_view relative,
                                std::string_view what) {
  std::string out = join(root, relative);
  out.append(": ");
  out.append(what);
  return out;
}

std::string describe_path_error(const Error& e) {
  return describe_path_error(e.detail, {}, e.code.message());
}

Result<HostRoot> HostRoot::open(std::filesystem::path root) {
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{errno_code(errno), root.native()};
  return HostRoot(std::move(root), fd);
}

HostRoot::HostRoot(HostRoot&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

HostRoot& HostRoot::operator=(HostRoot&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

HostRoot::~HostRoot() {
  if (fd_ >= 0) ::close(fd_);
}

Result<HostFile> HostRoot::open_file(std::string_view relative) const {
  auto opened = open_regular(fd_, relative);
  if (!opened) return Error{opened.error(), join(path_, relative)};
  const int fd = *opened;
  struct statfs sfs {};
  const bool generated =
      ::fstatfs(fd, &sfs) == 0 && (static_cast<long>(sfs.f_type) == kProcSuperMagic ||
                                   static_cast<long>(sfs.f_type) == kSysfsMagic);
  return HostFile(fd, generated);
}

Result<std::string> HostRoot::read_file(std::string_view relative) const {
  auto file = open_file(relative);
  if (!file) return file.error();
  std::string out;
  if (auto r = file->read(out); !r) return Error{r.error().code, join(path_, relative)};
  return out;
}

Result<std::uint64_t> HostRoot::inode(std::string_view relative) const {
  std::array<char, 512> path{};
  if (!to_relative_cstr(relative, path)) return Error{errno_code(EINVAL), join(path_, relative)};
  const std::string_view rel(path.data(), relative.size());
  const std::size_t slash = rel.rfind('/');
  const std::string_view dir = slash == std::string_view::npos ? "." : rel.substr(0, slash);
  const std::string last(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  auto parent = open_beneath(fd_, dir, O_PATH | O_DIRECTORY);
  if (!parent) return Error{beneath_error(parent.error()), join(path_, relative)};
  struct stat st {};
  struct statfs sfs {};
  boost::system::error_code ec;
  if (::fstatfs(*parent, &sfs) == 0 && static_cast<long>(sfs.f_type) == kProcSuperMagic) {
    // procfs's links are the kernel's own (ns/*, self): following the last one is safe.
    if (::fstatat(*parent, last.c_str(), &st, 0) != 0) ec = errno_code(errno);
  } else if (auto fd = open_beneath(*parent, last, O_PATH)) {
    if (::fstat(*fd, &st) != 0) ec = errno_code(errno);
    ::close(*fd);
  } else {
    ec = beneath_error(fd.error());
  }
  ::close(*parent);
  if (ec) return Error{ec, join(path_, relative)};
  return static_cast<std::uint64_t>(st.st_ino);
}

Result<std::uint64_t> HostRoot::count_entries(std::string_view relative) const {
  std::array<char, 512> path{};
  if (!to_relative_cstr(relative, path)) return Error{errno_code(EINVAL), join(path_, relative)};
  auto fd = open_beneath(fd_, path.data(), O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  if (!fd) return Error{beneath_error(fd.error()), join(path_, relative)};
  DIR* dir = ::fdopendir(*fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(*fd);
    return Error{errno_code(err), join(path_, relative)};
  }
  const std::string own = std::to_string(*fd);  // the listing's own descriptor
  std::uint64_t count = 0;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    if (entry->d_name[0] != '.' && entry->d_name != own) ++count;
  }
  const int err = errno;
  ::closedir(dir);  // closes *fd too
  if (err != 0) return Error{errno_code(err), join(path_, relative)};
  return count;
}

Result<void> HostRoot::check_readable() const {
  // Opening "." for reading needs search (x) and read (r) permission on the root itself.
  const int dir = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Error{errno_code(errno), path_.native()};
  ::close(dir);
  return {};
}

std::string HostRoot::reason(std::string_view relative, std::string_view what) const {
  return describe_path_error(path_, relative, what);
}

Result<HostFs> HostFs::open(std::filesystem::path procfs, std::filesystem::path sysfs) {
  auto proc = HostRoot::open(std::move(procfs));
  if (!proc) return proc.error();
  auto sys = HostRoot::open(std::move(sysfs));
  if (!sys) return sys.error();
  return HostFs{std::move(*proc), std::move(*sys), std::nullopt};
}

Result<void> HostFs::check_readable() const {
  if (auto r = procfs.check_readable(); !r) return r;
  if (auto r = sysfs.check_readable(); !r) return r;
  return rootfs ? rootfs->check_readable() : Result<void>{};
}

}  // namespace nodeagent::nodeinfo
