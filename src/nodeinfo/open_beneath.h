#pragma once
// Opening a path below a directory fd without ever leaving it. A --procfs or --sysfs root is
// trusted to be a directory, not to be free of symlinks: a fixture tree or a misconfigured mount
// may hold `loadavg -> /etc/shadow`, and the agent must not read (or quote) what that points at.
//
// Rules, the kernel's RESOLVE_BENEATH ones: symlinks are followed while they stay below the root
// (procfs's own `self -> 1234` and `thread-self -> 1234/task/1234` do); an absolute symlink, a
// `..` that climbs above the root and an absolute `relative` fail with EXDEV; magic links
// (/proc/<pid>/fd/*, exe, ns/*) are not followed; more than 40 symlinks is ELOOP.
//
// Where the kernel has openat2(2) (Linux 5.6+) it does the resolution (RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS). Where it does not, or a seccomp filter refuses it (ENOSYS, EPERM), the
// same walk is done in user space one component at a time with O_PATH | O_NOFOLLOW, reading each
// symlink through its own fd, so a rename in between cannot redirect it.
//
// Thread-safety: stateless; safe to call concurrently.

#include <boost/system/result.hpp>
#include <string_view>

namespace nodeagent::nodeinfo {

enum class Resolver {
  kKernelIfAvailable,  // openat2, falling back to kUserSpace on ENOSYS/EPERM
  kUserSpace,          // always the fallback walk (what a pre-5.6 kernel gets; tests use it)
};

// Opens `relative` (no NUL inside) below `root_fd` with `flags` (open(2) flags; O_CLOEXEC and
// O_NOCTTY, unless O_PATH, are always added). Returns the new fd, owned by the caller, or the
// errno.
boost::system::result<int> open_beneath(int root_fd, std::string_view relative, int flags,
                                        Resolver resolver = Resolver::kKernelIfAvailable);

}  // namespace nodeagent::nodeinfo
