#pragma once
// Snapshots for renderer tests: a hand-built complete one, and ones sampled from fixture hosts.

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "clock/clock.h"
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

inline nodeinfo::Snapshot sample_tree(const std::filesystem::path& root, const std::string& node,
                                      const Clock& clock = real_clock()) {
  auto fs = nodeinfo::HostFs::open(root / "proc", root / "sys");
  if (!fs) throw std::runtime_error(nodeinfo::describe_path_error(fs.error()));
  nodeinfo::Sampler sampler(*fs, node, 100, clock);
  return sampler.sample();
}

inline nodeinfo::Snapshot sample_host(const std::string& name, const std::string& node) {
  return sample_tree(std::filesystem::path(NODEAGENT_FIXTURES_DIR) / name, node);
}

inline void write_host_file(const std::filesystem::path& p, std::string_view content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

// full_snapshot()'s node as host files (USER_HZ 100), for tests of what the sources emit.
inline void write_seed_host(const std::filesystem::path& root) {
  write_host_file(root / "proc/uptime", "21490.99 40000.00\n");
  write_host_file(root / "proc/loadavg", "1.62 1.83 2.25 2/3479 12345\n");
  write_host_file(root / "proc/stat",
                  "cpu  10050 100 2000 300000 400 0 50 0 1000 0\n"
                  "cpu0 5025 50 1000 150000 200 0 25 0 500 0\n"
                  "cpu1 5025 50 1000 150000 200 0 25 0 500 0\n"
                  "intr 123456789 0 0\n"
                  "ctxt 9876543210\n"
                  "btime 1716178509\n"
                  "processes 4321\n"
                  "procs_running 3\n"
                  "procs_blocked 1\n");
  write_host_file(root / "proc/meminfo",
                  "MemTotal:        8388608 kB\n"
                  "MemFree:         1048576 kB\n"
                  "MemAvailable:    6291456 kB\n"
                  "Active(anon):       1024 kB\n"
                  "HugePages_Total:       4\n");
  write_host_file(root / "proc/pressure/cpu",
                  "some avg10=1.53 avg60=1.77 avg300=2.20 total=9182736450\n"
                  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  write_host_file(root / "proc/pressure/memory",
                  "some avg10=0.12 avg60=0.08 avg300=0.02 total=1234567\n"
                  "full avg10=0.10 avg60=0.05 avg300=0.01 total=987654\n");
  write_host_file(root / "proc/pressure/io",
                  "some avg10=4.44 avg60=3.21 avg300=2.10 total=77221100\n"
                  "full avg10=3.90 avg60=2.95 avg300=1.87 total=66112200\n");
  write_host_file(root / "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
  write_host_file(root / "sys/devices/system/node/online", "0-1\n");
}

}  // namespace nodeagent::render::testing_util
