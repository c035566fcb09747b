#include "agent/privileges.h"

#include <cap-ng.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "agent/self_proc.h"

namespace nodeagent::agent {
namespace {

constexpr unsigned kMaxCap = 63;

std::string errno_text(int err) { return std::strerror(err); }

Error fail(std::string what, int err = 0) {
  if (err == 0) return Error{Errc::kDenied, std::move(what)};
  what += ": " + errno_text(err);
  return Error{{err, boost::system::system_category()}, std::move(what)};
}

bool has(std::uint64_t mask, unsigned cap) { return (mask >> cap) & 1U; }

// The highest capability number this kernel knows (PR_CAPBSET_READ fails beyond it).
unsigned last_cap() {
  unsigned last = 0;
  for (unsigned cap = 0; cap <= kMaxCap; ++cap) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break;
    last = cap;
  }
  return last;
}

// Threads a sanitizer runtime starts for itself before main(); they never run agent code.
unsigned runtime_threads() {
#if defined(__SANITIZE_THREAD__)
  return 1;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  return 1;
#else
  return 0;
#endif
#else
  return 0;
#endif
}

// Without a readable /proc/self (a chroot without /proc) the count is unknown and the step goes
// ahead: Agent::create() runs it before any thread starts anyway; this only catches a wrong order.
Result<void> require_single_thread(std::string_view step) {
  auto threads = thread_count();
  if (threads && *threads > 1 + runtime_threads()) {
    return fail(std::string(step) + ": the process already has " + std::to_string(*threads) +
                " threads; capabilities are per thread, so this must run before any thread starts");
  }
  return {};
}

// Empties effective, permitted and inheritable, keeping `keep` (a capability number) in
// effective and permitted when it is >= 0.
Result<void> apply_caps(int keep) {
  capng_clear(CAPNG_SELECT_CAPS);
  if (keep >= 0 &&
      capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                   static_cast<unsigned>(keep)) != 0) {
    return fail("cannot select capability " + std::to_string(keep));
  }
  if (capng_apply(CAPNG_SELECT_CAPS) != 0) return fail("capset failed", errno);
  return {};
}

Result<void> clear_ambient() {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0) return {};
  // Kernels before 4.3 have no ambient set, so there is nothing to clear.
  if (errno == EINVAL && read_capabilities().ambient == 0) return {};
  return fail("cannot clear the ambient capability set", errno);
}

std::string describe_ids(const Identity& id) {
  return "uid " + std::to_string(id.uid) + "/" + std::to_string(id.euid) + "/" +
         std::to_string(id.suid) + ", gid " + std::to_string(id.gid) + "/" +
         std::to_string(id.egid) + "/" + std::to_string(id.sgid) + ", " +
         std::to_string(id.groups.size()) + " supplementary groups";
}

}  // namespace

CapabilitySets read_capabilities() {
  CapabilitySets sets;
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) == 0) {
    sets.effective = data[0].effective | (std::uint64_t{data[1].effective} << 32);
    sets.permitted = data[0].permitted | (std::uint64_t{data[1].permitted} << 32);
    sets.inheritable = data[0].inheritable | (std::uint64_t{data[1].inheritable} << 32);
  }
  for (unsigned cap = 0; cap <= kMaxCap; ++cap) {
    int in_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_bounding < 0) break;
    if (in_bounding == 1) sets.bounding |= std::uint64_t{1} << cap;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) {
      sets.ambient |= std::uint64_t{1} << cap;
    }
  }
  return sets;
}

std::vector<std::string> capability_names(std::uint64_t mask) {
  std::vector<std::string> names;
  for (unsigned cap = 0; cap <= kMaxCap; ++cap) {
    if (!has(mask, cap)) continue;
    const char* known = capng_capability_to_name(cap);
    if (known == nullptr || std::strlen(known) == 0) {
      names.push_back("CAP_" + std::to_string(cap));
      continue;
    }
    std::string name(known);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    names.push_back(std::move(name));
  }
  return names;
}

Identity read_identity() {
  Identity id;
  getresuid(&id.uid, &id.euid, &id.suid);
  getresgid(&id.gid, &id.egid, &id.sgid);
  int count = getgroups(0, nullptr);
  if (count > 0) {
    id.groups.resize(static_cast<std::size_t>(count));
    count = getgroups(count, id.groups.data());
    id.groups.resize(count > 0 ? static_cast<std::size_t>(count) : 0);
  }
  return id;
}

bool read_no_new_privs() { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1; }

Result<unsigned> thread_count() {
  auto self = open_self_proc();
  if (!self) return self.error();
  auto status = self->read_file("status");
  if (!status) return status.error();
  return parse_status_threads(*status);
}

Result<bool> narrow_for_bind(bool needs_low_port) {
  Identity id = read_identity();
  if (id.euid == 0) return false;
  if (auto r = require_single_thread("dropping capabilities"); !r) return r.error();
  CapabilitySets caps = read_capabilities();
  const bool keep = needs_low_port && has(caps.permitted, CAP_NET_BIND_SERVICE);
  if (caps.effective == 0 && caps.permitted == 0 && caps.inheritable == 0 && caps.ambient == 0) {
    return false;  // an ordinary user: nothing to narrow
  }
  if (auto r = clear_ambient(); !r) return r.error();
  if (auto r = apply_caps(keep ? CAP_NET_BIND_SERVICE : -1); !r) return r.error();
  return keep;
}

Result<PrivilegeChange> drop_privileges(const PrivilegeOptions& options) {
  PrivilegeChange change;
  change.before = read_identity();
  change.caps_before = read_capabilities();
  if (auto r = require_single_thread("dropping privileges"); !r) return r.error();

  const bool root = change.before.uid == 0 || change.before.euid == 0 || change.before.suid == 0;
  const bool switch_user = root && !options.allow_root;
  if (switch_user && options.user == 0) {
    return fail("--user 0 keeps root: pass --allow-root to run as root, or a non-zero --user");
  }

  // Execve can never again add privileges (setuid binaries, file capabilities).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("cannot set no_new_privs", errno);

  // The bounding set first: shrinking it needs CAP_SETPCAP, which is about to go.
  if (has(change.caps_before.effective, CAP_SETPCAP)) {
    const unsigned last = last_cap();
    for (unsigned cap = 0; cap <= last; ++cap) {
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
        return fail("cannot drop capability " + std::to_string(cap) + " from the bounding set",
                    errno);
      }
    }
    change.bounding_cleared = true;
  } else {
    change.bounding_cleared = change.caps_before.bounding == 0;
  }
  if (auto r = clear_ambient(); !r) return r.error();

  if (switch_user) {
    const CapabilitySets& caps = change.caps_before;
    if (!has(caps.effective, CAP_SETUID) || !has(caps.effective, CAP_SETGID)) {
      return fail("started as uid 0 without CAP_SETUID/CAP_SETGID, so cannot switch to --user " +
                  std::to_string(options.user) +
                  ": run as that user instead (runAsUser), or pass --allow-root");
    }
    const uid_t uid = options.user;
    const gid_t gid = static_cast<gid_t>(options.user);
    // Groups first, then gid, then uid: once the uid changes the others can no longer be set.
    if (setgroups(0, nullptr) != 0) return fail("setgroups({}) failed", errno);
    if (setresgid(gid, gid, gid) != 0) return fail("setresgid(" + std::to_string(gid) + ")", errno);
    if (setresuid(uid, uid, uid) != 0) return fail("setresuid(" + std::to_string(uid) + ")", errno);
    change.switched_user = true;
  }
  // setresuid() away from root already emptied effective and permitted; inheritable survives it.
  if (auto r = apply_caps(-1); !r) return r.error();

  change.after = read_identity();
  change.caps_after = read_capabilities();
  change.no_new_privs = read_no_new_privs();

  // Trust nothing above: check what the kernel now says.
  const Identity& now = change.after;
  if (switch_user) {
    const uid_t uid = options.user;
    const gid_t gid = static_cast<gid_t>(options.user);
    if (now.uid != uid || now.euid != uid || now.suid != uid || now.gid != gid || now.egid != gid ||
        now.sgid != gid || !now.groups.empty()) {
      return fail("switching user did not stick: now " + describe_ids(now));
    }
    if (setuid(0) == 0) return fail("setuid(0) still succeeds after switching user");
  }
  const CapabilitySets& caps = change.caps_after;
  if (caps.effective != 0 || caps.permitted != 0 || caps.inheritable != 0 || caps.ambient != 0) {
    return fail("capabilities remain after dropping them: effective " +
                std::to_string(caps.effective) + ", permitted " + std::to_string(caps.permitted));
  }
  if (change.bounding_cleared && caps.bounding != 0) {
    return fail("the bounding set is not empty after clearing it");
  }
  if (!change.no_new_privs) return fail("no_new_privs is not set");
  return change;
}

}  // namespace nodeagent::agent
