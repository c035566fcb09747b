#include "nodeinfo/open_beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace nodeagent::nodeinfo {
namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's MAXSYMLINKS

boost::system::error_code errno_code(int err) { return {err, boost::system::system_category()}; }

// Owns the directory fds of the walk; index 0 is the caller's root (not owned).
class DirStack {
 public:
  explicit DirStack(int root) { fds_.push_back(root); }
  ~DirStack() {
    for (std::size_t i = 1; i < fds_.size(); ++i) ::close(fds_[i]);
  }
  DirStack(const DirStack&) = delete;
  DirStack& operator=(const DirStack&) = delete;

  int top() const { return fds_.back(); }
  void push(int fd) { fds_.push_back(fd); }
  bool pop() {  // false at the root: ".." would leave it
    if (fds_.size() == 1) return false;
    ::close(fds_.back());
    fds_.pop_back();
    return true;
  }

 private:
  std::vector<int> fds_;
};

// Splits into components, dropping empty ones and "." (so "a//b/." is {"a", "b"}).
void push_components_front(std::string_view path, std::deque<std::string>& out) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  out.insert(out.begin(), parts.begin(), parts.end());
}

// The target of the symlink `fd` refers to (an O_PATH | O_NOFOLLOW fd of the link itself).
boost::system::result<std::string> read_link(int fd) {
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlinkat(fd, "", target.data(), target.size());
    if (n < 0) return errno_code(errno);
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    if (target.size() >= 4096) return errno_code(ENAMETOOLONG);
    target.resize(target.size() * 2);
  }
}

boost::system::result<int> open_user_space(int root_fd, std::string_view relative, int flags) {
  if (!relative.empty() && relative.front() == '/') return errno_code(EXDEV);
  std::deque<std::string> todo;
  push_components_front(relative, todo);
  DirStack dirs(root_fd);
  int symlinks = 0;
  while (!todo.empty()) {
    const std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == "..") {
      if (!dirs.pop()) return errno_code(EXDEV);
      continue;
    }
    // Every component, the last one included, is first opened as a path without following it,
    // so a symlink is seen as such and its target read through this very fd.
    const int fd = ::openat(dirs.top(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno_code(errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return errno_code(err);
    }
    if (S_ISLNK(st.st_mode)) {
      auto target = read_link(fd);
      ::close(fd);
      if (!target) return target.error();
      if (++symlinks > kMaxSymlinks) return errno_code(ELOOP);
      // Absolute targets leave the root; a magic link's "net:[4026531840]" resolves to nothing.
      if (target->empty() || target->front() == '/') return errno_code(EXDEV);
      push_components_front(*target, todo);
      continue;
    }
    if (todo.empty()) {
      // The final component: reopen it with the caller's flags relative to the O_PATH fd.
      if ((flags & O_DIRECTORY) != 0 && !S_ISDIR(st.st_mode)) {
        ::close(fd);
        return errno_code(ENOTDIR);
      }
      if ((flags & O_PATH) != 0) return fd;
      const int opened = ::openat(dirs.top(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
      const int err = errno;
      ::close(fd);
      if (opened < 0) return errno_code(err);
      // The name could have been swapped for another file between the two opens; only the
      // same inode counts.
      struct stat again {};
      if (::fstat(opened, &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
        ::close(opened);
        return errno_code(EAGAIN);
      }
      return opened;
    }
    if (!S_ISDIR(st.st_mode)) {
      ::close(fd);
      return errno_code(ENOTDIR);
    }
    dirs.push(fd);
  }
  // Nothing left after dropping "." and empty components: the root itself (or where ".." led).
  const int opened = ::openat(dirs.top(), ".", flags | O_CLOEXEC);
  if (opened < 0) return errno_code(errno);
  return opened;
}

}  // namespace

boost::system::result<int> open_beneath(int root_fd, std::string_view relative, int flags,
                                        Resolver resolver) {
  if (relative.find('\0') != std::string_view::npos) return errno_code(EINVAL);
  // openat2 rejects flags that open() would ignore, e.g. O_NOCTTY with O_PATH.
  flags |= (flags & O_PATH) != 0 ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
  if (resolver == Resolver::kKernelIfAvailable) {
    const std::string path(relative.empty() ? std::string_view(".") : relative);
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    // EAGAIN: a rename somewhere on the system raced with the lookup; a few retries suffice.
    for (int attempt = 0;; ++attempt) {
      const long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how));
      if (fd >= 0) return static_cast<int>(fd);
      const int err = errno;
      if ((err == EINTR || err == EAGAIN) && attempt < 8) continue;
      if (err != ENOSYS && err != EPERM) return errno_code(err);
      break;
    }
  }
  return open_user_space(root_fd, relative, flags);
}

}  // namespace nodeagent::nodeinfo
