#pragma once
// Least privilege at start-up. The agent needs no capability to read /proc and serve a port >=
// 1024, so once its host roots are open and its sockets bound it gives up everything: it sets
// no_new_privs, empties the bounding, ambient, inheritable, permitted and effective capability
// sets, and, when started as root, becomes --user (uid and gid) unless --allow-root is given.
//
// Thread-safety: capability sets are per thread in Linux, so narrow_for_bind() and
// drop_privileges() must run while the process has a single thread (they check and refuse
// otherwise). The read_* functions only inspect the calling thread and may run anywhere.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nodeagent/error.h"

namespace nodeagent::agent {

// One bit per capability number (bit 10 = CAP_NET_BIND_SERVICE).
struct CapabilitySets {
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;
  std::uint64_t ambient = 0;
  std::uint64_t bounding = 0;
};

// The calling thread's sets, from capget(2) and prctl(2) (no /proc needed).
CapabilitySets read_capabilities();

// Names as Kubernetes writes them in securityContext.capabilities: "NET_BIND_SERVICE",
// "SYS_ADMIN"; a number the C library does not know yet becomes "CAP_<n>". Ascending order.
std::vector<std::string> capability_names(std::uint64_t mask);

struct Identity {
  uid_t uid = 0, euid = 0, suid = 0;
  gid_t gid = 0, egid = 0, sgid = 0;
  std::vector<gid_t> groups;  // supplementary groups
};
Identity read_identity();

bool read_no_new_privs();

struct PrivilegeOptions {
  uid_t user = 65534;  // uid and gid to become when started as root (--user)
  bool allow_root = false;
};

// What drop_privileges() did, for the start-up log line and GET /v1/agent.
struct PrivilegeChange {
  Identity before;
  Identity after;
  CapabilitySets caps_before;
  CapabilitySets caps_after;
  bool switched_user = false;
  // False when the process lacked CAP_SETPCAP and so could not shrink its bounding set (an
  // ordinary user); harmless under no_new_privs, which stops execve from gaining capabilities.
  bool bounding_cleared = false;
  bool no_new_privs = false;
};

// Failures below are an Error whose detail is one line saying what failed and what to do about
// it (ending in ": <strerror>" when a call failed), and whose code is that call's errno, else
// Errc::kDenied (a step the process may not take, or one the kernel did not carry out).

// Before binding, for a process that is not root: keeps CAP_NET_BIND_SERVICE alone when
// `needs_low_port` and it is permitted, and drops every other capability right away. Does
// nothing for root, which keeps what it has until drop_privileges() (it may need to switch user).
// Returns whether NET_BIND_SERVICE was kept.
Result<bool> narrow_for_bind(bool needs_low_port);

// After the roots are open and the sockets bound. Every step is verified (the ids really
// changed, setuid(0) is refused, every set is empty) before success is returned.
Result<PrivilegeChange> drop_privileges(const PrivilegeOptions& options);

// How many threads the process has, from /proc/self/status: its errno when unreadable, or
// Errc::kMalformed (see parse_status_threads).
Result<unsigned> thread_count();

}  // namespace nodeagent::agent
