#pragma once
// Snapshots for renderer tests: a hand-built complete one, and ones sampled from fixture hosts.

#include <filesystem>
#include <stdexcept>
#include <string>

#include "nodeinfo/host_fs.h"
#include "nodeinfo/sampler.h"
#include "nodeinfo/snapshot.h"

namespace nodeagent::render::testing_util {

// The seed's example node, everything present, taken at 2024-05-20T10:13:20.250Z.
inline nodeinfo::Snapshot full_snapshot() {
  nodeinfo::Snapshot s;
  s.node_name = "kind-worker";
  s.taken_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1716200000250));
  s.uptime_seconds = 21490.99;
  s.boot_time = 1716178509;
  s.load = nodeinfo::Load{1.62, 1.83, 2.25};
  s.threads = nodeinfo::Threads{2, 3479};
  s.last_pid = 12345;
  s.cpu_count = 2;
  s.cpu_seconds = nodeinfo::CpuSeconds{100.5, 1, 20, 3000, 4, 0, 0.5, 0, 10, 0};
  s.per_cpu_seconds = {{0, {50.25, 0.5, 10, 1500, 2, 0, 0.25, 0, 5, 0}},
                       {1, {50.25, 0.5, 10, 1500, 2, 0, 0.25, 0, 5, 0}}};
  s.cpu_utilisation = nodeinfo::CpuUtilisation{0.25, 0, 0.05, 0.7, 0, 0, 0, 0, 0.125, 0};
  s.context_switches = 9876543210;
  s.forks = 4321;
  s.procs_running = 3;
  s.procs_blocked = 1;
  s.memory = {8ull << 30, 1ull << 30, 6ull << 30, 1ull << 20, 2ull << 30, 1ull << 30, 1ull << 29};
  s.meminfo = {{"MemTotal", 8ull << 30, true},
               {"MemAvailable", 6ull << 30, true},
               {"Active(anon)", 1ull << 20, true},
               {"HugePages_Total", 4, false}};
  s.interrupts = 123456789;
  s.uname =
      nodeinfo::Uname{"Linux", "6.1.0-18-amd64", "#1 SMP Debian 6.1.76-1", "x86_64", "(none)"};
  s.pressure.cpu = nodeinfo::Pressure{{1.53, 1.77, 2.2, 9182736450}, std::nullopt};
  s.pressure.memory = nodeinfo::Pressure{{0.12, 0.08, 0.02, 1234567},
                                         nodeinfo::PressureStat{0.1, 0.05, 0.01, 987654}};
  s.pressure.io = nodeinfo::Pressure{{4.44, 3.21, 2.1, 77221100},
                                     nodeinfo::PressureStat{3.9, 2.95, 1.87, 66112200}};
  s.numa_nodes = 2;
  s.kernel_release = "6.1.0-18-amd64";
  return s;
}

// Only what a node whose every source failed has.
inline nodeinfo::Snapshot empty_snapshot() {
  nodeinfo::Snapshot s;
  s.node_name = "broken";
  s.taken_at = std::chrono::system_clock::time_point(std::chrono::seconds(1716200000));
  s.errors = {"/host/proc/uptime: No such file or directory",
              "/host/proc/loadavg: malformed: bad load1 \"nan\""};
  return s;
}

inline nodeinfo::Snapshot sample_host(const std::string& name, const std::string& node) {
  const auto root = std::filesystem::path(NODEAGENT_FIXTURES_DIR) / name;
  auto fs = nodeinfo::HostFs::open(root / "proc", root / "sys");
  if (!fs) throw std::runtime_error(nodeinfo::describe_path_error(fs.error()));
  nodeinfo::Sampler sampler(*fs, node, 100);
  return sampler.sample();
}

}  // namespace nodeagent::render::testing_util
