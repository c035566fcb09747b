#include "nodeinfo/sampler.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <numeric>
#include <sstream>
#include <string>

#include "test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::copy_host;
using testing_util::fixture_host;
using testing_util::TempDir;
using testing_util::write_file;

HostFs open_host(const std::filesystem::path& root) {
  auto fs = HostFs::open(root / "proc", root / "sys");
  if (!fs) throw std::runtime_error(fs.error().message());
  return std::move(*fs);
}

bool has_error_about(const Snapshot& s, std::string_view what) {
  return std::any_of(s.errors.begin(), s.errors.end(),
                     [&](const std::string& e) { return e.find(what) != std::string::npos; });
}

std::string errors_of(const Snapshot& s) {
  std::string out;
  for (const auto& e : s.errors) out += e + "\n";
  return out;
}

constexpr std::size_t idx(CpuMode m) { return static_cast<std::size_t>(m); }

TEST(Sampler, CapturedVmHost) {
  HostFs fs = open_host(fixture_host("vm-2cpu-psi"));
  ManualClock clock;
  Sampler sampler(fs, "vm", 100, clock);
  const Snapshot s = sampler.sample();
  EXPECT_TRUE(s.errors.empty()) << errors_of(s);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.node_name, "vm");
  EXPECT_EQ(s.taken_at, std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)));
  EXPECT_DOUBLE_EQ(*s.uptime_seconds, 1081.08);
  EXPECT_DOUBLE_EQ(s.load->load5, 0.59);
  EXPECT_EQ(s.threads->running, 1u);
  EXPECT_EQ(s.threads->total, 91u);
  EXPECT_EQ(*s.last_pid, 8883u);
  EXPECT_EQ(*s.boot_time, 1795437402);
  EXPECT_EQ(*s.cpu_count, 2u);
  ASSERT_EQ(s.per_cpu_seconds.size(), 2u);
  EXPECT_DOUBLE_EQ((*s.cpu_seconds)[idx(CpuMode::kUser)], 114.52);
  EXPECT_FALSE(s.cpu_utilisation);  // first sample
  EXPECT_EQ(*s.memory.total, 24683620ull * 1024);
  EXPECT_TRUE(s.memory.used());
  EXPECT_EQ(*s.memory.swap_used(), 0u);
  ASSERT_TRUE(s.pressure.cpu && s.pressure.memory && s.pressure.io);
  EXPECT_TRUE(s.pressure.cpu->full);
  EXPECT_EQ(s.numa_nodes, 1u);  // sysfs devices/system/node/online: "0"
  EXPECT_EQ(*s.kernel_release, "6.18.44-fc-v769");
}

TEST(Sampler, ManyCpuHost) {
  HostFs fs = open_host(fixture_host("server-64cpu-psi"));
  Sampler sampler(fs, "kind-worker", 100);
  const Snapshot s = sampler.sample();
  EXPECT_TRUE(s.errors.empty()) << errors_of(s);
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(*s.uptime_seconds, 21490.37);
  EXPECT_EQ(*s.cpu_count, 64u);
  ASSERT_EQ(s.per_cpu_seconds.size(), 64u);
  EXPECT_EQ(s.per_cpu_seconds.back().cpu, 63u);
  EXPECT_GT((*s.cpu_seconds)[idx(CpuMode::kGuest)], 0);
  EXPECT_EQ(*s.context_switches, 9876543210u);
  EXPECT_EQ(*s.forks, 2284113u);
  EXPECT_EQ(*s.procs_running, 3u);
  EXPECT_EQ(*s.procs_blocked, 1u);
  EXPECT_EQ(*s.memory.available, 201339276ull * 1024);
  EXPECT_EQ(*s.memory.used(), (263782404ull - 201339276ull) * 1024);
  ASSERT_TRUE(s.pressure.cpu);
  ASSERT_TRUE(s.pressure.cpu->full);
  EXPECT_EQ(s.pressure.cpu->full->total_us, 0u);
  EXPECT_EQ(s.pressure.io->full->total_us, 66112200u);
  EXPECT_EQ(*s.kernel_release, "6.1.0-18-amd64");
}

TEST(Sampler, OneCpuHostWithoutPsi) {
  HostFs fs = open_host(fixture_host("tiny-1cpu-nopsi"));
  Sampler sampler(fs, "tiny", 100);
  const Snapshot s = sampler.sample();
  // A kernel without PSI is not an error: the readings are just absent.
  EXPECT_TRUE(s.errors.empty()) << errors_of(s);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s.cpu_count, 1u);
  EXPECT_FALSE(s.pressure.cpu);
  EXPECT_FALSE(s.pressure.memory);
  EXPECT_FALSE(s.pressure.io);
  EXPECT_FALSE(s.numa_nodes);  // no sysfs node directory: a kernel without NUMA, not an error
  EXPECT_EQ(*s.memory.swap_used(), (524284ull - 498172ull) * 1024);
  EXPECT_EQ(*s.kernel_release, "4.19.0-25-amd64");
}

TEST(Sampler, TruncatedHostReportsEverySourceMissing) {
  HostFs fs = open_host(fixture_host("truncated"));
  Sampler sampler(fs, "t", 100);
  const Snapshot s = sampler.sample();
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.uptime_seconds);
  EXPECT_FALSE(s.load);
  EXPECT_FALSE(s.threads);
  EXPECT_FALSE(s.cpu_count);
  EXPECT_FALSE(s.cpu_seconds);
  EXPECT_TRUE(s.per_cpu_seconds.empty());
  EXPECT_FALSE(s.memory.total);
  EXPECT_FALSE(s.pressure.cpu);
  EXPECT_FALSE(s.pressure.memory);
  EXPECT_FALSE(s.pressure.io);  // missing file: treated like a kernel without PSI
  EXPECT_FALSE(s.kernel_release);
  EXPECT_FALSE(s.numa_nodes);
  EXPECT_TRUE(s.disks.empty());
  EXPECT_TRUE(s.net_devices.empty());
  ASSERT_EQ(s.errors.size(), 12u) << errors_of(s);
  for (const char* f :
       {"/proc/uptime: malformed: truncated", "/proc/loadavg: malformed", "/proc/stat: malformed",
        "/proc/meminfo: malformed", "/proc/pressure/cpu: malformed",
        "/proc/pressure/memory: malformed", "/proc/sys/kernel/osrelease: malformed: empty input",
        "/sys/devices/system/node/online: malformed: truncated", "/proc/vmstat: malformed",
        "/proc/diskstats: malformed", "/proc/1/net/dev: malformed",
        "/proc/sys/fs/file-nr: malformed"}) {
    EXPECT_TRUE(has_error_about(s, f)) << f << "\n" << errors_of(s);
  }
  for (const auto& e : s.errors) EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(Sampler, GarbageHostReportsEverySourceMissing) {
  HostFs fs = open_host(fixture_host("garbage"));
  Sampler sampler(fs, "g", 100);
  const Snapshot s = sampler.sample();
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.uptime_seconds);
  EXPECT_FALSE(s.load);
  EXPECT_FALSE(s.cpu_seconds);
  EXPECT_FALSE(s.memory.total);
  EXPECT_FALSE(s.pressure.cpu || s.pressure.memory || s.pressure.io);
  EXPECT_FALSE(s.kernel_release);
  EXPECT_FALSE(s.numa_nodes);
  EXPECT_EQ(s.errors.size(), 13u) << errors_of(s);  // every file but cpu/online
  EXPECT_TRUE(has_error_about(s, "/proc/loadavg: malformed: bad load1 \"nan\"")) << errors_of(s);
  EXPECT_TRUE(has_error_about(s, "/proc/diskstats: malformed: line 1: bad counter \"three\""))
      << errors_of(s);
  EXPECT_TRUE(has_error_about(s, "/sys/devices/system/node/online: malformed: bad item \"1-0\""))
      << errors_of(s);
}

TEST(Sampler, MissingFilesAreReportedWithErrno) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "proc");
  std::filesystem::create_directories(tmp.path() / "sys");
  HostFs fs = open_host(tmp.path());
  Sampler sampler(fs, "empty", 100);
  const Snapshot s = sampler.sample();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(has_error_about(s, (tmp.path() / "proc/loadavg: No such file or directory").string()))
      << errors_of(s);
  // uptime loadavg stat meminfo diskstats 1/net/dev osrelease vmstat sys/fs/file-nr; the
  // files a kernel may lack (pressure, NUMA, conntrack, clocksources) are not errors.
  EXPECT_EQ(s.errors.size(), 9u) << errors_of(s);
  EXPECT_TRUE(has_error_about(
      s,
      (tmp.path() / "proc/1/net/dev: No such file or directory (needs the host's procfs").string()))
      << errors_of(s);
}

std::string stat_text(const std::array<std::uint64_t, 10>& total, int cpus,
                      std::uint64_t btime = 1795437402) {
  std::ostringstream out;
  out << "cpu ";
  for (auto v : total) out << ' ' << v;
  out << '\n';
  for (int c = 0; c < cpus; ++c) {
    out << "cpu" << c;
    for (auto v : total) out << ' ' << v / static_cast<std::uint64_t>(cpus);
    out << '\n';
  }
  out << "intr 1 0\nctxt 100\nbtime " << btime
      << "\nprocesses 10\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0\n";
  return out.str();
}

class SamplerDeltas : public ::testing::Test {
 protected:
  void SetUp() override {
    copy_host("vm-2cpu-psi", tmp_.path() / "host");
    fs_.emplace(open_host(tmp_.path() / "host"));
    sampler_.emplace(*fs_, "vm", 100);
  }
  void write_stat(const std::string& text) {
    write_file(tmp_.path() / "host" / "proc" / "stat", text);
  }

  TempDir tmp_;
  std::optional<HostFs> fs_;
  std::optional<Sampler> sampler_;
};

// A FIFO swapped in for loadavg (no writer: open and read would block forever) is reported as
// unreadable and the sample completes; the other sources are unaffected.
TEST_F(SamplerDeltas, FifoSwappedInIsRefusedAndTheSampleCompletes) {
  ASSERT_TRUE(sampler_->sample().ok());
  const auto loadavg = tmp_.path() / "host" / "proc" / "loadavg";
  std::filesystem::remove(loadavg);
  ASSERT_EQ(::mkfifo(loadavg.c_str(), 0600), 0);
  const Snapshot s = sampler_->sample();
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.load);
  EXPECT_TRUE(s.uptime_seconds);
  EXPECT_TRUE(has_error_about(s, loadavg.string() + ": not a regular file")) << errors_of(s);
}

TEST(Sampler, StampsEachSampleWithTheClock) {
  HostFs fs = open_host(fixture_host("vm-2cpu-psi"));
  ManualClock clock;
  Sampler sampler(fs, "vm", 100, clock);
  const auto first = sampler.sample().taken_at;
  clock.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(sampler.sample().taken_at - first, std::chrono::milliseconds(1500));
}

TEST_F(SamplerDeltas, SecondSampleComputesUtilisation) {
  //                 user nice sys idle iow irq sirq steal guest gnice
  write_stat(stat_text({1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0}, 2));
  EXPECT_FALSE(sampler_->sample().cpu_utilisation);
  write_stat(stat_text({1030, 0, 510, 8060, 100, 0, 50, 0, 0, 0}, 2));
  const Snapshot s = sampler_->sample();
  ASSERT_TRUE(s.cpu_utilisation);
  const auto& u = *s.cpu_utilisation;
  EXPECT_DOUBLE_EQ(u[idx(CpuMode::kUser)], 0.3);
  EXPECT_DOUBLE_EQ(u[idx(CpuMode::kSystem)], 0.1);
  EXPECT_DOUBLE_EQ(u[idx(CpuMode::kIdle)], 0.6);
  EXPECT_DOUBLE_EQ(u[idx(CpuMode::kIowait)], 0.0);
  EXPECT_DOUBLE_EQ(std::accumulate(u.begin(), u.begin() + kCpuDisjointModeCount, 0.0), 1.0);
}

TEST_F(SamplerDeltas, CountersGoingBackwardsAreClampedNotWrapped) {
  write_stat(stat_text({1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0}, 2));
  sampler_->sample();
  // iowait and idle went backwards (seen on real kernels and on cpu unplug).
  write_stat(stat_text({1050, 0, 550, 7990, 90, 0, 50, 0, 0, 0}, 2));
  const Snapshot s = sampler_->sample();
  ASSERT_TRUE(s.cpu_utilisation);
  for (double f : *s.cpu_utilisation) {
    EXPECT_GE(f, 0.0);
    EXPECT_LE(f, 1.0);
  }
  EXPECT_DOUBLE_EQ((*s.cpu_utilisation)[idx(CpuMode::kUser)], 0.5);
  EXPECT_DOUBLE_EQ((*s.cpu_utilisation)[idx(CpuMode::kIdle)], 0.0);
}

TEST_F(SamplerDeltas, CpuHotUnplugChangesCountKeepsUtilisationSane) {
  write_stat(stat_text({1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0}, 2));
  EXPECT_EQ(*sampler_->sample().cpu_count, 2u);
  write_stat(stat_text({1010, 0, 505, 8085, 100, 0, 50, 0, 0, 0}, 1));
  const Snapshot s = sampler_->sample();
  EXPECT_EQ(*s.cpu_count, 1u);
  EXPECT_EQ(s.per_cpu_seconds.size(), 1u);
  ASSERT_TRUE(s.cpu_utilisation);
  EXPECT_DOUBLE_EQ((*s.cpu_utilisation)[idx(CpuMode::kIdle)], 0.85);
}

// The per-cpu label blocks are made once and follow the set of online cpus: with cpu0 gone and
// cpu1 left, every series is cpu1's.
TEST_F(SamplerDeltas, CpuLabelsFollowTheOnlineCpus) {
  const std::string both = stat_text({1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0}, 2);
  write_stat(both);
  sampler_->sample();
  std::string only_cpu1 = both;
  const std::size_t cpu0 = only_cpu1.find("\ncpu0 ") + 1;
  only_cpu1.erase(cpu0, only_cpu1.find('\n', cpu0) + 1 - cpu0);
  write_stat(only_cpu1);
  const Snapshot s = sampler_->sample();
  const metrics::Family* seconds = s.families.find("node_cpu_seconds_total");
  ASSERT_NE(seconds, nullptr);
  ASSERT_EQ(seconds->series.size(), 8u);  // one cpu, 8 modes
  for (const metrics::Series& series : seconds->series) {
    EXPECT_EQ(series.labels.view().rfind("cpu=\"1\",", 0), 0u) << series.labels;
  }
}

TEST_F(SamplerDeltas, NoElapsedTimeMeansNoUtilisation) {
  write_stat(stat_text({1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0}, 2));
  sampler_->sample();
  EXPECT_FALSE(sampler_->sample().cpu_utilisation);
}

TEST_F(SamplerDeltas, DifferentBootTimeRestartsTheBaseline) {
  write_stat(stat_text({1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0}, 2));
  sampler_->sample();
  write_stat(stat_text({10, 0, 5, 80, 1, 0, 0, 0, 0, 0}, 2, 1795500000));
  EXPECT_FALSE(sampler_->sample().cpu_utilisation);
  write_stat(stat_text({20, 0, 5, 90, 1, 0, 0, 0, 0, 0}, 2, 1795500000));
  auto s = sampler_->sample();
  ASSERT_TRUE(s.cpu_utilisation);
  EXPECT_DOUBLE_EQ((*s.cpu_utilisation)[idx(CpuMode::kUser)], 0.5);
}

TEST_F(SamplerDeltas, FailedReadInBetweenKeepsTheLastGoodBaseline) {
  write_stat(stat_text({1000, 0, 500, 8000, 100, 0, 50, 0, 0, 0}, 2));
  sampler_->sample();
  write_stat("cpu  garbage\n");
  auto bad = sampler_->sample();
  EXPECT_FALSE(bad.cpu_seconds);
  EXPECT_FALSE(bad.cpu_utilisation);
  EXPECT_TRUE(has_error_about(bad, "/proc/stat: malformed"));
  EXPECT_TRUE(bad.ok());  // stat is not needed for the seed line
  write_stat(stat_text({1100, 0, 500, 8100, 100, 0, 50, 0, 0, 0}, 2));
  auto s = sampler_->sample();
  ASSERT_TRUE(s.cpu_utilisation);
  EXPECT_DOUBLE_EQ((*s.cpu_utilisation)[idx(CpuMode::kUser)], 0.5);
}

TEST_F(SamplerDeltas, SourcesRecoverAfterFailing) {
  const auto loadavg = tmp_.path() / "host" / "proc" / "loadavg";
  std::filesystem::remove(loadavg);
  auto s = sampler_->sample();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(has_error_about(s, "loadavg: No such file or directory")) << errors_of(s);
  write_file(loadavg, "1.00 2.00 3.00 4/5 6\n");
  s = sampler_->sample();
  EXPECT_TRUE(s.ok()) << errors_of(s);
  EXPECT_TRUE(s.errors.empty()) << errors_of(s);
}

TEST_F(SamplerDeltas, KernelReleaseIsReadOnce) {
  EXPECT_EQ(*sampler_->sample().kernel_release, "6.18.44-fc-v769");
  std::filesystem::remove(tmp_.path() / "host" / "proc" / "sys" / "kernel" / "osrelease");
  auto s = sampler_->sample();
  EXPECT_EQ(*s.kernel_release, "6.18.44-fc-v769");
  EXPECT_TRUE(s.errors.empty()) << errors_of(s);
}

TEST(CpuUtilisation, GuestIsAShareOfUser) {
  const CpuJiffies prev{100, 100, 0, 0, 0, 0, 0, 0, 50, 50};
  const CpuJiffies cur{200, 120, 0, 80, 0, 0, 0, 0, 100, 200};  // guest_nice jumps past nice
  auto u = cpu_utilisation(prev, cur);
  ASSERT_TRUE(u);
  EXPECT_DOUBLE_EQ((*u)[idx(CpuMode::kUser)], 0.5);
  EXPECT_DOUBLE_EQ((*u)[idx(CpuMode::kGuest)], 0.25);
  EXPECT_DOUBLE_EQ((*u)[idx(CpuMode::kGuestNice)], 0.1);  // clamped to nice's share
}

TEST(Sampler, RealProcOfThisMachineKeptOpenAcrossSamples) {
  auto fs = HostFs::open("/proc", "/sys");
  ASSERT_TRUE(fs);
  Sampler sampler(*fs, "self");
  for (int i = 0; i < 3; ++i) {  // the later samples read through the kept-open files
    const Snapshot s = sampler.sample();
    EXPECT_TRUE(s.ok()) << errors_of(s);
    EXPECT_TRUE(s.cpu_count);
    EXPECT_TRUE(s.memory.total);
    EXPECT_TRUE(s.kernel_release) << errors_of(s);
    EXPECT_EQ(s.pressure.cpu.has_value(), std::filesystem::exists("/proc/pressure/cpu"));
  }
}

TEST_F(SamplerDeltas, DeletedFileOnARegularFilesystemIsNoticed) {
  ASSERT_TRUE(sampler_->sample().ok());
  std::filesystem::remove(tmp_.path() / "host" / "proc" / "loadavg");
  const Snapshot s = sampler_->sample();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(has_error_about(s, "loadavg: No such file or directory")) << errors_of(s);
}

// A source that throws loses its own readings for that sample; the others and the agent go on.
TEST(Sampler, ASourceThatThrowsIsAnErrorNotTheEnd) {
  struct Throws final : Source {
    void sample(SampleContext&) override { throw std::bad_alloc(); }
  };
  struct Counts final : Source {
    void sample(SampleContext& ctx) override {
      ctx.snap.families.gauge("test_ok", "A reading.", std::optional<double>(1));
    }
  };
  ManualClock clock;
  std::vector<std::pair<std::string, std::unique_ptr<Source>>> sources;
  sources.emplace_back("throws", std::make_unique<Throws>());
  sources.emplace_back("counts", std::make_unique<Counts>());
  Sampler sampler("n", clock, std::move(sources));
  for (int i = 0; i < 2; ++i) {
    const Snapshot s = sampler.sample();
    ASSERT_EQ(s.errors.size(), 1u);
    EXPECT_EQ(s.errors[0], "throws: std::bad_alloc");
    EXPECT_NE(s.families.find("test_ok"), nullptr);
  }
}

}  // namespace
}  // namespace nodeagent::nodeinfo
