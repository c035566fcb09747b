#pragma once
// Command-line configuration of the agent. Parsing is separate from main() so every flag error can
// be tested: a bad flag yields a message that names it and exit status 2.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/access.h"
#include "http/listen_address.h"
#include "log/log.h"

namespace nodeagent::agent {

struct Config {
  std::vector<http::ListenAddress> listen;  // --listen-address (repeatable), default ":80"
  std::filesystem::path procfs = "/proc";   // --procfs: the host's /proc (e.g. /host/proc)
  std::filesystem::path sysfs = "/sys";     // --sysfs
  // --rootfs: the host's / (read-only) for the filesystem and os sources; empty: those are off.
  std::filesystem::path rootfs;
  // --no-collector.<name> / --collector.<name>, names from nodeinfo::all_sources().
  std::vector<std::string> sources_disabled, sources_enabled;
  // node_exporter's spellings: --collector.<source>.<option>; checked to compile as regexes.
  std::string diskstats_device_exclude, netdev_device_exclude, vmstat_fields;
  std::string filesystem_mount_points_exclude, filesystem_fs_types_exclude;
  std::chrono::milliseconds filesystem_mount_timeout{5000};  // --collector.filesystem.mount-timeout
  std::chrono::milliseconds interval{1000};                  // --interval between samples
  log::Level log_level = log::Level::kInfo;                  // --log-level
  AccessList access;                     // --allow-cidr (repeatable); empty allows everyone
  unsigned socket_mode = 0660;           // --socket-mode for unix sockets (octal)
  std::optional<unsigned> socket_group;  // --socket-group (name or gid) of unix sockets
  unsigned user = 65534;                 // --user: uid (and gid) to switch to when root
  bool allow_root = false;               // --allow-root: stay uid 0 when started as root
  unsigned threads = 0;                  // --threads event loops (parse_config never leaves 0)
  unsigned max_connections = 10000;      // --max-connections
  // --shutdown-delay: after SIGTERM, keep serving this long (readyz 503) before draining.
  std::chrono::milliseconds shutdown_delay{0};
  std::string node_name;  // NODE_NAME, else the hostname
};

// What main() should do after parsing: run with the config, or print and exit.
struct ParseOutcome {
  std::optional<Config> config;  // set when the agent should run
  int exit_code = 0;             // when config is empty: 0 (--help/--version) or 2 (bad flag)
  std::string message;           // help text, version, or "node-agent: --flag: reason"
};

// Event loops for `--threads 0` on a host with `cores` cores (0 when unknown): one per core, at
// most 2. One loop serves ~70,000 requests/s at ~13 us CPU each (docs/benchmarks.md), far more
// than a 200m CPU limit lets through; more loops only add threads against the pod's pids limit
// (1 -> 16 loops: +0.2 MiB RSS, +15 tasks).
unsigned default_threads(unsigned cores);

// `env_node_name` and `hostname` are passed in (not read here) so tests control them.
ParseOutcome parse_config(int argc, const char* const* argv,
                          std::optional<std::string> env_node_name, std::string hostname);

}  // namespace nodeagent::agent
