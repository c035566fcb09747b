#include "render/prometheus.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "snapshot_fixture.h"

namespace nodeagent::render {
namespace {

using testing_util::empty_snapshot;
using testing_util::sample_host;
using testing_util::sample_tree;
using testing_util::write_host_file;
using testing_util::write_seed_host;

// A temporary copy of the seed's node as host files.
class SeedHost {
 public:
  SeedHost() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "seed-host-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
    write_seed_host(root_);
  }
  ~SeedHost() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  const std::filesystem::path& root() const { return root_; }
  // Sampled at 2024-05-20T10:13:20.250Z.
  nodeinfo::Snapshot sample(const std::string& node = "kind-worker") const {
    ManualClock clock(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(1716200000250)));
    return sample_tree(root_, node, clock);
  }

 private:
  std::filesystem::path root_;
};

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

std::size_t count_prefix(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

// Every sample's family has exactly one HELP and one TYPE line before its samples, and the
// samples of a family are contiguous (what promtool and Prometheus require).
void expect_well_formed(const std::string& text) {
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::istringstream in(text);
  std::set<std::string> helped, typed, done;
  std::string current;
  for (std::string line; std::getline(in, line);) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(helped.insert(name).second) << "duplicate HELP " << name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "duplicate TYPE " << name;
      continue;
    }
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_TRUE(helped.count(name)) << "no HELP for " << name;
    EXPECT_TRUE(typed.count(name)) << "no TYPE for " << name;
    if (name != current) {
      EXPECT_TRUE(done.insert(name).second) << "family split: " << name;
      current = name;
    }
    const std::string value = line.substr(line.rfind(' ') + 1);
    EXPECT_NE(value, "NaN") << line;
  }
}

TEST(RenderPrometheus, FullSnapshot) {
  const std::string text = render_prometheus(SeedHost().sample());
  expect_well_formed(text);
  for (const char* line : {
           "# HELP node_load1 1m load average.",
           "# TYPE node_load1 gauge",
           "node_load1 1.62",
           "node_load5 1.83",
           "node_load15 2.25",
           "node_boot_time_seconds 1716178509",
           "node_time_seconds 1716200000.25",
           "nodeagent_uptime_seconds 21490.99",
           "nodeagent_threads 3479",
           "nodeagent_threads_running 2",
           "node_procs_running 3",
           "node_procs_blocked 1",
           "# TYPE node_context_switches_total counter",
           "node_context_switches_total 9876543210",
           "node_forks_total 4321",
           "# TYPE node_cpu_seconds_total counter",
           "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 1500",
           "node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 50.25",
           "node_cpu_seconds_total{cpu=\"1\",mode=\"softirq\"} 0.25",
           "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 5",
           "node_cpu_guest_seconds_total{cpu=\"0\",mode=\"nice\"} 0",
           "nodeagent_cpus_online 2",
           "nodeagent_numa_nodes 2",
           "# TYPE node_intr_total counter",
           "node_intr_total 123456789",
           "# TYPE node_memory_MemTotal_bytes gauge",
           "node_memory_MemTotal_bytes 8589934592",
           "node_memory_MemAvailable_bytes 6442450944",
           "node_memory_Active_anon_bytes 1048576",
           "node_memory_HugePages_Total 4",
           "# TYPE node_uname_info gauge",
           "node_pressure_cpu_waiting_seconds_total 9182.73645",
           "node_pressure_memory_waiting_seconds_total 1.234567",
           "node_pressure_memory_stalled_seconds_total 0.987654",
           "node_pressure_io_waiting_seconds_total 77.2211",
           "node_pressure_io_stalled_seconds_total 66.1122",
           "# TYPE nodeagent_node_info gauge",
           "nodeagent_node_info{node=\"kind-worker\",kernel_release=\"6.1.0-18-amd64\"} 1",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n---\n" << text;
  }
  // Guest time is its own family, as in node_exporter; no guest modes in node_cpu_seconds_total.
  EXPECT_EQ(count_prefix(text, "node_cpu_seconds_total{"), 2u * 8);
  EXPECT_EQ(text.find("mode=\"guest"), std::string::npos);
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
  // uname(2) is this machine's; the nodename is the node's, not this machine's hostname.
  EXPECT_NE(text.find(",nodename=\"kind-worker\",release=\""), std::string::npos) << text;
}

TEST(RenderPrometheus, ASnapshotWithoutFamiliesRendersNothing) {
  EXPECT_EQ(render_prometheus(empty_snapshot()), "");
}

TEST(RenderPrometheus, EveryHostFileMissingLeavesOnlyWhatSyscallsTell) {
  SeedHost host;
  std::filesystem::remove_all(host.root() / "proc");
  std::filesystem::remove_all(host.root() / "sys");
  std::filesystem::create_directories(host.root() / "proc");
  std::filesystem::create_directories(host.root() / "sys");
  const auto s = host.sample();
  const std::string text = render_prometheus(s);
  expect_well_formed(text);
  std::set<std::string> families;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    // adjtimex(2) answers without any file (and as any user).
    if (name.rfind("node_timex_", 0) != 0) families.insert(name);
  }
  EXPECT_EQ(families, (std::set<std::string>{"node_time_seconds", "node_time_zone_offset_seconds",
                                             "node_uname_info"}));
  EXPECT_TRUE(has_line(text, "node_time_seconds 1716200000.25"));
}

TEST(RenderPrometheus, PartialMemoryOmitsOnlyThatFamily) {
  SeedHost host;
  write_host_file(host.root() / "proc/meminfo",  // a kernel without MemAvailable
                  "MemTotal:        8388608 kB\nMemFree:         1048576 kB\n");
  write_host_file(host.root() / "proc/stat",  // and without an intr line
                  "cpu  1 1 1 1 1 1 1 1 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\nctxt 1\nbtime 1\n"
                  "processes 1\nprocs_running 1\nprocs_blocked 0\n");
  std::filesystem::remove(host.root() / "proc/pressure/io");
  write_host_file(host.root() / "proc/pressure/memory",
                  "some avg10=0.12 avg60=0.08 avg300=0.02 total=1234567\n");
  const std::string text = render_prometheus(host.sample());
  expect_well_formed(text);
  EXPECT_EQ(text.find("node_memory_MemAvailable_bytes"), std::string::npos);
  EXPECT_NE(text.find("node_memory_MemTotal_bytes"), std::string::npos);
  EXPECT_EQ(text.find("node_intr_total"), std::string::npos);
  EXPECT_EQ(text.find("node_pressure_io"), std::string::npos);
  EXPECT_EQ(text.find("node_pressure_memory_stalled"), std::string::npos);
  EXPECT_NE(text.find("node_pressure_memory_waiting"), std::string::npos);
}

TEST(RenderPrometheus, LabelValuesAreEscaped) {
  const std::string text = render_prometheus(SeedHost().sample("a\"b\\c\nd"));
  EXPECT_TRUE(
      has_line(text, R"(nodeagent_node_info{node="a\"b\\c\nd",kernel_release="6.1.0-18-amd64"} 1)"))
      << text;
  EXPECT_NE(text.find(R"(,nodename="a\"b\\c\nd",)"), std::string::npos) << text;
}

TEST(RenderPrometheus, FixtureHosts) {
  const std::string big = render_prometheus(sample_host("server-64cpu-psi", "n"));
  expect_well_formed(big);
  EXPECT_EQ(count_prefix(big, "node_cpu_seconds_total{"), 64u * 8);
  EXPECT_EQ(count_prefix(big, "node_cpu_guest_seconds_total{"), 64u * 2);
  EXPECT_TRUE(has_line(
      big,
      "node_cpu_seconds_total{cpu=\"63\",mode=\"idle\"} " +
          fmt::format("{}", sample_host("server-64cpu-psi", "n").per_cpu_seconds[63].seconds[3])));
  const std::string tiny = render_prometheus(sample_host("tiny-1cpu-nopsi", "n"));
  expect_well_formed(tiny);
  EXPECT_EQ(tiny.find("node_pressure"), std::string::npos);
  EXPECT_TRUE(has_line(tiny, "node_memory_SwapTotal_bytes 536866816"));
  for (const char* host : {"vm-2cpu-psi", "truncated", "garbage"}) {
    SCOPED_TRACE(host);
    expect_well_formed(render_prometheus(sample_host(host, "n")));
  }
}

}  // namespace
}  // namespace nodeagent::render
