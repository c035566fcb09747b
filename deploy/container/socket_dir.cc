// node-agent-socket-dir: prepares the directory that holds the agent's unix socket.
//
// The kubelet creates a `hostPath` directory of type DirectoryOrCreate as root:root 0755, where
// the agent (uid 65532, no capabilities) cannot create its socket. This helper runs once as uid 0
// in an init container with only CAP_CHOWN: it sets the mode while root still owns the directory
// (the owner needs no capability for chmod) and then gives it to the agent's uid and gid. It
// refuses symlinks and anything that is not a directory, so a planted link cannot redirect the
// chown to another host path.
//
// It ships in the size-capped image next to three larger programs, so it avoids iostreams, fmt
// and CLI11 (together about 1 MB of static runtime here) and parses its three flags itself; its
// output follows the project's logfmt shape (src/log) by hand.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kUsage =
    "usage: node-agent-socket-dir [--uid=N] [--gid=N] [--mode=OCTAL] DIR\n"
    "  Gives DIR (a kubelet-created hostPath directory) to the agent: mode first, then owner.\n"
    "  --uid=N       owner uid (default 65532, the agent's)\n"
    "  --gid=N       owner gid (default 65532; clients in this group may connect)\n"
    "  --mode=OCTAL  directory mode, 0000..0777 (default 0750)\n";

struct Options {
  std::string dir;
  uid_t uid = 65532;
  gid_t gid = 65532;
  mode_t mode = 0750;
};

std::string quote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

// One logfmt line on stdout, like nodeagent::log: ts, level, msg, then key=value pairs.
void log(std::string_view level, std::string_view msg, std::string_view fields = {}) {
  char ts[32] = "";
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string line = "ts=" + std::string(ts) + "." +
                     std::to_string(now.tv_nsec / 1000000 + 1000).substr(1) +
                     "Z level=" + std::string(level) + " msg=" + quote(msg);
  if (!fields.empty()) line += " " + std::string(fields);
  line += "\n";
  [[maybe_unused]] auto n = ::write(STDOUT_FILENO, line.data(), line.size());
}

template <typename T>
std::optional<T> parse_number(std::string_view text, int base, T max) {
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v > max) {
    return std::nullopt;
  }
  return static_cast<T>(v);
}

std::optional<Options> usage_error(std::string_view msg, const std::string& fields) {
  log("error", msg, fields);
  return std::nullopt;
}

// Returns the options, or an exit code (0 for --help, 2 for a usage error).
std::optional<Options> parse(int argc, char** argv, int& exit_code) {
  Options opts;
  constexpr unsigned kMaxId = 4294967294u;  // (uid_t)-1 means "unchanged" to chown(2)
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> std::optional<std::string_view> {
      if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=') {
        return arg.substr(name.size() + 1);
      }
      return std::nullopt;
    };
    if (arg == "-h" || arg == "--help") {
      [[maybe_unused]] auto n = ::write(STDOUT_FILENO, kUsage.data(), kUsage.size());
      exit_code = 0;
      return std::nullopt;
    }
    if (auto uid = value("--uid")) {
      auto n = parse_number<uid_t>(*uid, 10, kMaxId);
      if (!n) return usage_error("invalid --uid, want 0..4294967294", "uid=" + quote(*uid));
      opts.uid = *n;
    } else if (auto gid = value("--gid")) {
      auto n = parse_number<gid_t>(*gid, 10, kMaxId);
      if (!n) return usage_error("invalid --gid, want 0..4294967294", "gid=" + quote(*gid));
      opts.gid = *n;
    } else if (auto mode = value("--mode")) {
      auto n = parse_number<mode_t>(*mode, 8, 0777);
      if (!n) return usage_error("invalid --mode, want octal 0000..0777", "mode=" + quote(*mode));
      opts.mode = *n;
    } else if (arg.starts_with("-")) {
      return usage_error("unknown flag (see --help)", "flag=" + quote(arg));
    } else if (opts.dir.empty()) {
      opts.dir = arg;
    } else {
      return usage_error("exactly one directory expected", "extra=" + quote(arg));
    }
  }
  if (opts.dir.empty()) return usage_error("directory argument is required (see --help)", "");
  return opts;
}

int fail(std::string_view what, const Options& opts, int err) {
  log("error", what, "dir=" + quote(opts.dir) + " error=" + quote(std::strerror(err)));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 2;
  auto parsed = parse(argc, argv, exit_code);
  if (!parsed) return exit_code;
  const Options& opts = *parsed;

  // O_NOFOLLOW + O_DIRECTORY: the final component must be a real directory; every later call
  // works on this descriptor, so the path cannot be swapped between check and change.
  const int fd = ::open(opts.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot open directory (missing, not a directory, or a symlink)", opts, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("fstat failed", opts, errno);

  char mode_text[8];
  std::snprintf(mode_text, sizeof mode_text, "%04o", static_cast<unsigned>(opts.mode));
  const std::string fields = "dir=" + quote(opts.dir) + " uid=" + std::to_string(opts.uid) +
                             " gid=" + std::to_string(opts.gid) + " mode=" + mode_text;
  if (st.st_uid == opts.uid && st.st_gid == opts.gid && (st.st_mode & 07777) == opts.mode) {
    log("info", "socket directory already prepared", fields);
    ::close(fd);
    return 0;
  }
  // chmod first, while we (root) still own it: the owner needs no CAP_FOWNER. On a re-run where a
  // previous chown already happened, take ownership back first (CAP_CHOWN covers that too).
  if (st.st_uid != ::geteuid() && ::fchown(fd, ::geteuid(), static_cast<gid_t>(-1)) != 0) {
    return fail("cannot take ownership back (needs CAP_CHOWN)", opts, errno);
  }
  if (::fchmod(fd, opts.mode) != 0) return fail("chmod failed", opts, errno);
  if (::fchown(fd, opts.uid, opts.gid) != 0) {
    return fail("chown failed (needs CAP_CHOWN)", opts, errno);
  }
  ::close(fd);
  log("info", "socket directory prepared", fields);
  return 0;
}
