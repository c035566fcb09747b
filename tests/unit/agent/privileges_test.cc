#include "agent/privileges.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace nodeagent::agent {
namespace {

// Runs `body` in a forked child (privilege changes are irreversible) and returns its exit status;
// the child writes its failure message to the pipe so the test can show it.
struct ChildResult {
  int status = -1;
  std::string message;
};

ChildResult in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string message = body();
    if (!message.empty()) {
      [[maybe_unused]] auto n = write(fds[1], message.data(), message.size());
    }
    _exit(message.empty() ? 0 : 1);
  }
  close(fds[1]);
  ChildResult result;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) result.message.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TEST(CapabilityNames, UsesKubernetesSpelling) {
  EXPECT_EQ(capability_names(0), std::vector<std::string>{});
  EXPECT_EQ(capability_names(std::uint64_t{1} << CAP_NET_BIND_SERVICE),
            std::vector<std::string>{"NET_BIND_SERVICE"});
  EXPECT_EQ(capability_names((std::uint64_t{1} << CAP_CHOWN) | (std::uint64_t{1} << CAP_SYS_ADMIN)),
            (std::vector<std::string>{"CHOWN", "SYS_ADMIN"}));
}

TEST(CapabilityNames, UnknownNumbersStayVisible) {
  EXPECT_EQ(capability_names(std::uint64_t{1} << 62), std::vector<std::string>{"CAP_62"});
}

TEST(ReadIdentity, MatchesTheProcess) {
  Identity id = read_identity();
  EXPECT_EQ(id.uid, getuid());
  EXPECT_EQ(id.euid, geteuid());
  EXPECT_EQ(id.gid, getgid());
  EXPECT_EQ(id.egid, getegid());
}

TEST(ReadCapabilities, RootHoldsWhatItIsBoundedBy) {
  CapabilitySets caps = read_capabilities();
  // The permitted set is always a subset of the bounding set for a process that never raised it.
  EXPECT_EQ(caps.permitted & ~caps.bounding, 0u);
  EXPECT_NE(caps.bounding, 0u) << "a test runner normally has a non-empty bounding set";
}

TEST(ThreadCount, CountsThisProcess) {
  auto before = thread_count();
  ASSERT_TRUE(before.has_value()) << before.error().message();
  std::atomic<bool> go{false};
  std::thread t([&] {
    while (!go.load()) std::this_thread::yield();
  });
  auto during = thread_count();
  go.store(true);
  t.join();
  ASSERT_TRUE(during.has_value()) << during.error().message();
  // TSan starts its own background thread together with the first thread of the program.
  EXPECT_GE(*during, *before + 1);
  EXPECT_LE(*during, *before + 2);
}

TEST(DropPrivileges, EndsWithNothing) {
  ChildResult r = in_child([] {
    const bool was_root = geteuid() == 0;
    auto change = drop_privileges({.user = 65534, .allow_root = false});
    if (!change) return "drop failed: " + change.error().detail;
    CapabilitySets caps = read_capabilities();
    if (caps.effective || caps.permitted || caps.inheritable || caps.ambient) {
      return std::string("capabilities left");
    }
    if (!read_no_new_privs()) return std::string("no_new_privs not set");
    if (was_root) {
      if (!change->switched_user) return std::string("root did not switch user");
      if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534) {
        return "ids are " + std::to_string(geteuid()) + "/" + std::to_string(getegid());
      }
      if (caps.bounding != 0 || !change->bounding_cleared) return std::string("bounding left");
      if (setuid(0) == 0) return std::string("setuid(0) succeeded");
    } else if (change->switched_user || getuid() != change->before.uid) {
      return std::string("an ordinary user must keep its uid");
    }
    return std::string();
  });
  EXPECT_EQ(r.status, 0) << r.message;
}

TEST(DropPrivileges, AllowRootKeepsUidZeroButNoCapabilities) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  ChildResult r = in_child([] {
    auto change = drop_privileges({.user = 65534, .allow_root = true});
    if (!change) return "drop failed: " + change.error().detail;
    if (geteuid() != 0 || change->switched_user) return std::string("root was not kept");
    CapabilitySets caps = read_capabilities();
    if (caps.effective || caps.permitted || caps.bounding) return std::string("caps left");
    return std::string();
  });
  EXPECT_EQ(r.status, 0) << r.message;
}

TEST(DropPrivileges, RefusesUserZeroWithoutAllowRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  ChildResult r = in_child([] {
    auto change = drop_privileges({.user = 0, .allow_root = false});
    if (change) return std::string("accepted --user 0");
    if (change.error().code != Errc::kDenied) return "not kDenied: " + change.error().message();
    return change.error().detail.find("--allow-root") != std::string::npos
               ? std::string()
               : "unclear error: " + change.error().detail;
  });
  EXPECT_EQ(r.status, 0) << r.message;
}

TEST(DropPrivileges, RootWithoutSetuidCapabilityFailsClearly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  ChildResult r = in_child([] {
    // A container started as uid 0 with `capabilities: drop: [ALL]`.
    for (unsigned cap : {CAP_SETUID, CAP_SETGID}) {
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return std::string("setup failed");
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return std::string("capget failed");
    const std::uint32_t mask = ~((1u << CAP_SETUID) | (1u << CAP_SETGID));
    data[0].effective &= mask;
    data[0].permitted &= mask;
    if (syscall(SYS_capset, &header, data) != 0) return std::string("capset failed");
    auto change = drop_privileges({.user = 65534, .allow_root = false});
    if (change) return std::string("switched user without CAP_SETUID");
    return change.error().detail.find("CAP_SETUID") != std::string::npos
               ? std::string()
               : "unclear error: " + change.error().detail;
  });
  EXPECT_EQ(r.status, 0) << r.message;
}

TEST(DropPrivileges, RefusesOnceThreadsRun) {
  ChildResult r = in_child([] {
    std::atomic<bool> go{false};
    std::thread t1([&] {
      while (!go.load()) std::this_thread::yield();
    });
    std::thread t2([&] {
      while (!go.load()) std::this_thread::yield();
    });
    auto change = drop_privileges({.user = 65534, .allow_root = false});
    go.store(true);
    t1.join();
    t2.join();
    if (change) return std::string("dropped with threads running");
    if (change.error().code != Errc::kDenied) return "not kDenied: " + change.error().message();
    return change.error().detail.find("thread") != std::string::npos
               ? std::string()
               : "unclear error: " + change.error().detail;
  });
  EXPECT_EQ(r.status, 0) << r.message;
}

TEST(NarrowForBind, KeepsOnlyNetBindServiceForAnOrdinaryUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to set up the capability";
  ChildResult r = in_child([] {
    // Become an ordinary user that holds NET_BIND_SERVICE and CHOWN, like a binary with file
    // capabilities: keep capabilities across setuid, then raise the two again.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return std::string("keepcaps failed");
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      return std::string("setup: switching user failed");
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    const std::uint32_t two = (1u << CAP_NET_BIND_SERVICE) | (1u << CAP_CHOWN);
    data[0].effective = two;
    data[0].permitted = two;
    if (syscall(SYS_capset, &header, data) != 0) return std::string("setup: capset failed");

    auto kept = narrow_for_bind(true);
    if (!kept) return "narrow failed: " + kept.error().detail;
    if (!*kept) return std::string("NET_BIND_SERVICE was not kept");
    CapabilitySets caps = read_capabilities();
    const std::uint64_t only = std::uint64_t{1} << CAP_NET_BIND_SERVICE;
    if (caps.effective != only || caps.permitted != only) {
      return std::string("more than NET_BIND_SERVICE is left");
    }
    auto change = drop_privileges({.user = 65534, .allow_root = false});
    if (!change) return "drop failed: " + change.error().detail;
    caps = read_capabilities();
    if (caps.effective || caps.permitted) return std::string("NET_BIND_SERVICE was not dropped");
    return std::string();
  });
  EXPECT_EQ(r.status, 0) << r.message;
}

TEST(NarrowForBind, DoesNothingForRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  ChildResult r = in_child([] {
    CapabilitySets before = read_capabilities();
    auto kept = narrow_for_bind(true);
    if (!kept || *kept) return std::string("unexpected result");
    return read_capabilities().effective == before.effective ? std::string()
                                                             : std::string("root lost caps");
  });
  EXPECT_EQ(r.status, 0) << r.message;
}

}  // namespace
}  // namespace nodeagent::agent
