// node-agent-socket-dir: prepares the directory that holds the agent's unix socket.
//
// The kubelet creates a `hostPath` directory of type DirectoryOrCreate as root:root 0755, where
// the agent (uid 65532, no capabilities) cannot create its socket. This helper runs once as uid 0
// in an init container with only CAP_CHOWN: it sets the mode while root still owns the directory
// (the owner needs no capability for chmod) and then gives it to the agent's uid and gid. It
// refuses symlinks and anything that is not a directory, so a planted link cannot redirect the
// chown to another host path.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "log/log.h"

namespace {

struct Options {
  std::string dir;
  unsigned uid = 65532;
  unsigned gid = 65532;
  std::string mode = "0750";
};

int fail(std::string_view what, const Options& opts, int err) {
  nodeagent::log::error(what, {{"dir", opts.dir}, {"error", std::strerror(err)}});
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  CLI::App app{"Give the agent's unix-socket directory to the agent's uid and gid"};
  app.add_option("dir", opts.dir, "Directory (created by the kubelet as a hostPath volume)")
      ->required();
  app.add_option("--uid", opts.uid, "Owner uid (the agent's)")->check(CLI::Range(0u, 4294967294u));
  app.add_option("--gid", opts.gid, "Owner gid (clients in this group may connect)")
      ->check(CLI::Range(0u, 4294967294u));
  app.add_option("--mode", opts.mode, "Octal directory mode, at most 0777 (no setuid/sticky)");
  CLI11_PARSE(app, argc, argv);

  std::size_t used = 0;
  unsigned long mode = 0;
  try {
    mode = std::stoul(opts.mode, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != opts.mode.size() || mode > 0777) {
    nodeagent::log::error("invalid --mode, want octal 0000..0777", {{"mode", opts.mode}});
    return 2;
  }

  // O_NOFOLLOW + O_DIRECTORY: the final component must be a real directory; every later call
  // works on this descriptor, so the path cannot be swapped between check and change.
  const int fd = ::open(opts.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return fail("cannot open directory (missing, not a directory, or a symlink)", opts, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("fstat failed", opts, errno);

  const auto want_mode = static_cast<mode_t>(mode);
  if (st.st_uid == opts.uid && st.st_gid == opts.gid && (st.st_mode & 07777) == want_mode) {
    nodeagent::log::info("socket directory already prepared", {{"dir", opts.dir}});
    ::close(fd);
    return 0;
  }
  // chmod first, while we (root) still own it: the owner needs no CAP_FOWNER. On a re-run where a
  // previous chown already happened, take ownership back first (CAP_CHOWN covers that too).
  if (st.st_uid != ::geteuid() && ::fchown(fd, ::geteuid(), static_cast<gid_t>(-1)) != 0) {
    return fail("cannot take ownership back (needs CAP_CHOWN)", opts, errno);
  }
  if (::fchmod(fd, want_mode) != 0) return fail("chmod failed", opts, errno);
  if (::fchown(fd, opts.uid, opts.gid) != 0) {
    return fail("chown failed (needs CAP_CHOWN)", opts, errno);
  }
  ::close(fd);
  nodeagent::log::info(
      "socket directory prepared",
      {{"dir", opts.dir}, {"uid", opts.uid}, {"gid", opts.gid}, {"mode", opts.mode}});
  return 0;
}
