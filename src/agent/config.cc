#include "agent/config.h"

#include <grp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cli/duration.h"
#include "cli/flags.h"
#include "nodeinfo/source.h"

namespace nodeagent::agent {
namespace {

constexpr std::string_view kProgram = "node-agent";

constexpr std::string_view kDescription =
    "node-agent serves this node's information (uptime, load, threads, CPU, memory, pressure,\n"
    "disks, network devices, filesystems, ...) over HTTP, read from the host's /proc, /sys and\n"
    "(with --rootfs) its /; /metrics uses node_exporter's names, so it can replace node_exporter.\n"
    "Each source can be switched off (--no-collector.<name>). Routes:\n"
    "  /                one text line (JSON when Accept prefers application/json)\n"
    "  /v1/node         JSON snapshot           /v1/node/watch  Server-Sent Events stream\n"
    "  /metrics         Prometheus metrics      /v1/agent       the agent's self-report\n"
    "  /healthz         alive                   /readyz         503 until a fresh sample exists\n"
    "The node name comes from $NODE_NAME, else the hostname. Logs are logfmt lines on stdout.\n"
    "Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on a start-up failure\n"
    "(port in use, /proc unreadable), 2 on a bad flag.";

// A flag value that failed validation; the message names the flag.
struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(std::string_view flag, const std::string& reason) {
  throw FlagError(std::string(flag) + ": " + reason);
}

unsigned parse_unsigned(std::string_view flag, const std::string& text, unsigned min, unsigned max,
                        int base = 10) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    std::ostringstream range;
    if (base == 8) {
      range << std::oct << "an octal mode from 0" << min << " to 0" << max;
    } else {
      range << "a whole number from " << min << " to " << max;
    }
    fail(flag, "\"" + text + "\" is not " + range.str());
  }
  return value;
}

// A group name from the group database (files, or whatever NSS is configured).
unsigned group_id(const std::string& name) {
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  const int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || !found) fail("--socket-group", "no group named \"" + name + "\"");
  return found->gr_gid;
}

// With the sources' own compiler, so that a pattern the flag accepts is one the source builds.
void check_regex(std::string_view flag, const std::string& text) {
  auto re = nodeinfo::compile_regex("not a regular expression:", text);
  if (!re) fail(flag, re.error().detail);
}

// --collector.<name> and --no-collector.<name> for every source, each flag mapped to its source
// and whether it turns it on.
using SourceFlags = std::map<const CLI::Option*, std::pair<std::string, bool>>;

SourceFlags add_source_flags(CLI::App& app) {
  SourceFlags flags;
  for (const nodeinfo::SourceInfo& info : nodeinfo::all_sources()) {
    const std::string name(info.name);
    const std::string what = std::string(info.reads) + (info.default_on ? "" : " (off by default)");
    const CLI::Option* on = app.add_flag("--collector." + name)
                                ->description("Enable the " + name + " source: " + what)
                                ->group("Sources");
    const CLI::Option* off = app.add_flag("--no-collector." + name)
                                 ->description("Disable the " + name + " source")
                                 ->group("Sources");
    flags[on] = {name, true};
    flags[off] = {name, false};
  }
  return flags;
}

}  // namespace

unsigned default_threads(unsigned cores) { return std::clamp(cores, 1u, 2u); }

ParseOutcome parse_config(int argc, const char* const* argv,
                          std::optional<std::string> env_node_name, std::string hostname) {
  CLI::App app{std::string(kDescription)};
  cli::apply_house_style(app, kProgram);

  std::vector<std::string> listen{":80"};
  std::string procfs = "/proc", sysfs = "/sys", interval = "1s", log_level = "info";
  std::vector<std::string> allow;
  std::string socket_mode = "0660", user = "65534", shutdown_delay = "0s", socket_group;
  unsigned threads = 0, max_connections = 10000;
  bool allow_root = false;
  std::string rootfs, mount_timeout = "5s";
  // node_exporter's defaults, from the one place that keeps them.
  const nodeinfo::SourceTunables defaults;
  std::string disk_exclude = defaults.diskstats_device_exclude;
  std::string netdev_exclude = defaults.netdev_device_exclude;
  std::string vmstat_fields = defaults.vmstat_fields;
  std::string mount_points_exclude = defaults.filesystem_mount_points_exclude;
  std::string fs_types_exclude = defaults.filesystem_fs_types_exclude;

  app.add_option("--listen-address", listen,
                 "Where to serve: :PORT (all addresses), HOST:PORT, [IPv6]:PORT or\n"
                 "unix:///path/to.sock. Repeat to serve several.")
      ->capture_default_str()
      ->type_name("ADDR");
  app.add_option("--procfs", procfs, "The host's /proc, e.g. /host/proc in a DaemonSet pod")
      ->capture_default_str()
      ->type_name("DIR");
  app.add_option("--sysfs", sysfs, "The host's /sys (NUMA nodes online)")
      ->capture_default_str()
      ->type_name("DIR");
  app.add_option("--rootfs", rootfs,
                 "The host's / mounted read-only, e.g. /host/root: statfs of its\n"
                 "mounts (filesystem) and its os-release (os). Without it those\n"
                 "two sources are off")
      ->type_name("DIR");
  const SourceFlags source_flags = add_source_flags(app);
  app.add_option("--collector.diskstats.device-exclude", disk_exclude,
                 "Block devices left out (regex, matched anywhere in the name)")
      ->capture_default_str()
      ->type_name("REGEX");
  app.add_option("--collector.netdev.device-exclude", netdev_exclude,
                 "Network devices left out (regex)")
      ->capture_default_str()
      ->type_name("REGEX");
  app.add_option("--collector.vmstat.fields", vmstat_fields, "/proc/vmstat fields exported (regex)")
      ->capture_default_str()
      ->type_name("REGEX");
  app.add_option("--collector.filesystem.mount-points-exclude", mount_points_exclude,
                 "Mount points left out (regex)")
      ->capture_default_str()
      ->type_name("REGEX");
  app.add_option("--collector.filesystem.fs-types-exclude", fs_types_exclude,
                 "Filesystem types left out (regex)")
      ->capture_default_str()
      ->type_name("REGEX");
  app.add_option("--collector.filesystem.mount-timeout", mount_timeout,
                 "A statfs unanswered this long marks its mount stuck\n"
                 "(device_error 1, not statted again until it answers); 1s to 1m")
      ->capture_default_str()
      ->type_name("DURATION");
  app.add_option("--interval", interval, "Time between samples, 100ms to 1h (e.g. 500ms, 1s, 1m)")
      ->capture_default_str()
      ->type_name("DURATION");
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->type_name("LEVEL");
  app.add_option("--allow-cidr", allow,
                 "Serve only TCP clients from this network (repeatable); others get\n"
                 "403. Default: everyone. Unix-socket clients are governed by\n"
                 "--socket-mode instead.")
      ->type_name("CIDR");
  app.add_option("--socket-mode", socket_mode, "File mode of unix sockets (octal)")
      ->capture_default_str()
      ->type_name("MODE");
  app.add_option("--socket-group", socket_group,
                 "Group (name or gid) of unix sockets, e.g. the group of their\n"
                 "clients. Default: the creator's group; when started as root,\n"
                 "the --user's")
      ->type_name("GROUP");
  app.add_option("--user", user,
                 "When started as root: the uid (and gid) to switch to once the\n"
                 "sockets are bound and the roots opened; 1 to 4294967294\n"
                 "(to stay uid 0, use --allow-root)")
      ->capture_default_str()
      ->type_name("UID");
  app.add_flag("--allow-root", allow_root, "Stay uid 0 when started as root (not recommended)");
  app.add_option("--threads", threads,
                 "Event-loop threads, at most 256; 0 means one per core, at most\n"
                 "2 (one loop serves tens of thousands of requests a second)")
      ->capture_default_str()
      ->type_name("N");
  app.add_option("--max-connections", max_connections,
                 "Open connections beyond this are closed at once")
      ->capture_default_str()
      ->type_name("N");
  app.add_option("--shutdown-delay", shutdown_delay,
                 "After SIGTERM, keep accepting and answering this long while\n"
                 "/readyz answers 503 (so load balancers stop sending), then drain;\n"
                 "0s to 10m. A second SIGTERM/SIGINT skips the rest of it.")
      ->capture_default_str()
      ->type_name("DURATION");
  app.set_version_flag("--version", std::string(kProgram) + " " + PROJECT_VERSION);

  ParseOutcome out;
  if (auto done = cli::parse_flags(app, argc, argv)) {
    out.exit_code = done->exit_code;
    out.message = std::move(done->text);
    return out;
  }

  try {
    Config config;
    for (const std::string& text : listen) {
      auto parsed = http::parse_listen_address(text);
      if (!parsed) fail("--listen-address", "\"" + text + "\": " + parsed.error().message());
      config.listen.push_back(*parsed);
    }
    if (procfs.empty()) fail("--procfs", "must not be empty");
    if (sysfs.empty()) fail("--sysfs", "must not be empty");
    config.procfs = procfs;
    config.sysfs = sysfs;
    config.rootfs = rootfs;
    // The last switch given for a source wins, as in node_exporter.
    std::map<std::string, bool> source_switches;
    for (const CLI::Option* given : app.parse_order()) {
      if (auto f = source_flags.find(given); f != source_flags.end()) {
        source_switches[f->second.first] = f->second.second;
      }
    }
    for (const auto& [name, enable] : source_switches) {
      (enable ? config.sources_enabled : config.sources_disabled).push_back(name);
    }
    const std::pair<std::string_view, const std::string*> regexes[] = {
        {"--collector.diskstats.device-exclude", &disk_exclude},
        {"--collector.netdev.device-exclude", &netdev_exclude},
        {"--collector.vmstat.fields", &vmstat_fields},
        {"--collector.filesystem.mount-points-exclude", &mount_points_exclude},
        {"--collector.filesystem.fs-types-exclude", &fs_types_exclude}};
    for (const auto& [flag, text] : regexes) check_regex(flag, *text);
    config.diskstats_device_exclude = disk_exclude;
    config.netdev_device_exclude = netdev_exclude;
    config.vmstat_fields = vmstat_fields;
    config.filesystem_mount_points_exclude = mount_points_exclude;
    config.filesystem_fs_types_exclude = fs_types_exclude;
    auto timeout = cli::parse_duration(mount_timeout);
    if (!timeout || *timeout < std::chrono::seconds(1) || *timeout > std::chrono::minutes(1)) {
      fail("--collector.filesystem.mount-timeout",
           "\"" + mount_timeout + "\" is not a duration from 1s to 1m (e.g. 5s)");
    }
    config.filesystem_mount_timeout = *timeout;
    auto every = cli::parse_duration(interval);
    if (!every || *every < std::chrono::milliseconds(100) || *every > std::chrono::hours(1)) {
      fail("--interval", "\"" + interval + "\" is not a duration from 100ms to 1h (e.g. 1s)");
    }
    config.interval = *every;
    auto level = log::parse_level(log_level);
    if (!level) fail("--log-level", "\"" + log_level + "\" is not one of debug, info, warn, error");
    config.log_level = *level;
    for (const std::string& cidr : allow) {
      if (auto added = config.access.add(cidr); !added) fail("--allow-cidr", added.error().detail);
    }
    config.socket_mode = parse_unsigned("--socket-mode", socket_mode, 0, 0777, 8);
    config.user = parse_unsigned("--user", user, 1, 4294967294u);
    if (!socket_group.empty()) {
      if (socket_group.find_first_not_of("0123456789") == std::string::npos) {
        config.socket_group = parse_unsigned("--socket-group", socket_group, 0, 4294967294u);
      } else {
        config.socket_group = group_id(socket_group);
      }
    }
    config.allow_root = allow_root;
    if (threads > 256) fail("--threads", std::to_string(threads) + " is more than 256");
    config.threads = threads != 0 ? threads : default_threads(std::thread::hardware_concurrency());
    auto delay = cli::parse_duration(shutdown_delay);
    if (!delay || *delay > std::chrono::minutes(10)) {
      fail("--shutdown-delay",
           "\"" + shutdown_delay + "\" is not a duration from 0s to 10m (e.g. 5s)");
    }
    config.shutdown_delay = *delay;
    if (max_connections == 0) fail("--max-connections", "must be at least 1");
    config.max_connections = max_connections;
    config.node_name = env_node_name && !env_node_name->empty() ? *env_node_name : hostname;
    // It goes into every response's Node-Name header: no spaces or control characters.
    for (char c : config.node_name) {
      if (c <= ' ' || c > '~') {
        fail(env_node_name && !env_node_name->empty() ? "NODE_NAME" : "hostname",
             "contains a space or control character: not a valid node name");
      }
    }
    out.config = std::move(config);
  } catch (const FlagError& e) {
    out.exit_code = cli::kUsageExit;
    out.message = cli::usage_error(kProgram, e.what());
  }
  return out;
}

}  // namespace nodeagent::agent
