// Microbenchmarks of the sampling path: each parser on real input, HostRoot reads, and one full
// Sampler::sample() with every source the agent runs (--rootfs / included), which issue 12
// budgets at 100 us of CPU (issue 6 had 50 us for the first seven readers).
//
// Inputs come from this machine's /proc (what the agent really parses) and, for /proc/stat and
// the full sample, from the 64-cpu fixture host too, because /proc/stat grows with the cpu count.

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "nodeinfo/host_fs.h"
#include "nodeinfo/parsers.h"
#include "nodeinfo/sampler.h"
#include "nodeinfo/snapshot.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {
namespace {

constexpr std::string_view kFixture64 = NODEAGENT_FIXTURE_HOSTS "/server-64cpu-psi";

HostFs open_or_die(const std::string& procfs, const std::string& sysfs) {
  auto fs = HostFs::open(procfs, sysfs);
  if (!fs) {
    std::fprintf(stderr, "microbench: %s\n", describe_path_error(fs.error()).c_str());
    std::exit(1);
  }
  return std::move(*fs);
}

// The same roots with this machine's / as --rootfs, which turns on filesystem and os.
HostFs open_with_rootfs_or_die(const std::string& procfs, const std::string& sysfs) {
  HostFs fs = open_or_die(procfs, sysfs);
  auto root = HostRoot::open("/");
  if (!root) {
    std::fprintf(stderr, "microbench: %s\n", describe_path_error(root.error()).c_str());
    std::exit(1);
  }
  fs.rootfs = std::move(*root);
  return fs;
}

const HostFs& live_fs() {
  static const HostFs fs = open_or_die("/proc", "/sys");
  return fs;
}

const HostFs& fixture64_fs() {
  static const HostFs fs =
      open_or_die(std::string(kFixture64) + "/proc", std::string(kFixture64) + "/sys");
  return fs;
}

const HostFs& live_fs_rootfs() {
  static const HostFs fs = open_with_rootfs_or_die("/proc", "/sys");
  return fs;
}

const HostFs& fixture64_fs_rootfs() {
  static const HostFs fs =
      open_with_rootfs_or_die(std::string(kFixture64) + "/proc", std::string(kFixture64) + "/sys");
  return fs;
}

// Reads the input once, outside the timed loop; a benchmark without its input is skipped.
bool load(benchmark::State& state, const HostFs& fs, std::string_view relative, std::string& out) {
  auto file = fs.procfs.open_file(relative);
  if (!file || !file->read(out)) {
    state.SkipWithError(("cannot read " + std::string(relative)).c_str());
    return false;
  }
  return true;
}

template <class Parse>
void run_parser(benchmark::State& state, const HostFs& fs, std::string_view relative, Parse parse) {
  std::string text;
  if (!load(state, fs, relative, text)) return;
  for (auto _ : state) {
    auto parsed = parse(std::string_view(text));
    if (!parsed) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_ParseUptime(benchmark::State& state) {
  run_parser(state, live_fs(), "uptime", [](std::string_view t) { return parse_uptime(t); });
}
void BM_ParseLoadavg(benchmark::State& state) {
  run_parser(state, live_fs(), "loadavg", [](std::string_view t) { return parse_loadavg(t); });
}
void BM_ParseStat(benchmark::State& state) {
  run_parser(state, live_fs(), "stat", [](std::string_view t) { return parse_stat(t, 100); });
}
void BM_ParseStat_64cpu(benchmark::State& state) {
  run_parser(state, fixture64_fs(), "stat", [](std::string_view t) { return parse_stat(t, 100); });
}
void BM_ParseMeminfo(benchmark::State& state) {
  run_parser(state, live_fs(), "meminfo", [](std::string_view t) { return parse_meminfo(t); });
}
void BM_ParsePressure(benchmark::State& state) {
  run_parser(state, fixture64_fs(), "pressure/memory",
             [](std::string_view t) { return parse_pressure(t); });
}
void BM_ParseOsrelease(benchmark::State& state) {
  run_parser(state, live_fs(), "sys/kernel/osrelease",
             [](std::string_view t) { return parse_osrelease(t); });
}
BENCHMARK(BM_ParseUptime);
BENCHMARK(BM_ParseLoadavg);
BENCHMARK(BM_ParseStat);
BENCHMARK(BM_ParseStat_64cpu);
BENCHMARK(BM_ParseMeminfo);
BENCHMARK(BM_ParsePressure);
BENCHMARK(BM_ParseOsrelease);

// The I/O half of sampling when a file is opened for every read: procfs generates the content
// on each read, and the path lookup and open/close cost more than that.
void run_open_read_close(benchmark::State& state, std::string_view relative) {
  std::string buf;
  for (auto _ : state) {
    auto file = live_fs().procfs.open_file(relative);
    if (!file || !file->read(buf)) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(buf.data());
  }
}
void BM_HostFs_ReadProcStat(benchmark::State& state) { run_open_read_close(state, "stat"); }
void BM_HostFs_ReadProcLoadavg(benchmark::State& state) { run_open_read_close(state, "loadavg"); }
BENCHMARK(BM_HostFs_ReadProcStat);
BENCHMARK(BM_HostFs_ReadProcLoadavg);

// What the sampler does instead: files opened once and re-read with one pread each, which skips
// the path lookup and the open/close that dominate the reads above.
void run_kept_open(benchmark::State& state, std::string_view relative) {
  auto file = live_fs().procfs.open_file(relative);
  if (!file) {
    state.SkipWithError(("cannot open " + std::string(relative)).c_str());
    return;
  }
  std::string buf;
  for (auto _ : state) {
    if (!file->read(buf)) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(buf.data());
  }
}
void BM_HostFile_RereadProcStat(benchmark::State& state) { run_kept_open(state, "stat"); }
void BM_HostFile_RereadProcLoadavg(benchmark::State& state) { run_kept_open(state, "loadavg"); }
BENCHMARK(BM_HostFile_RereadProcStat);
BENCHMARK(BM_HostFile_RereadProcLoadavg);

// The cost of entering and leaving the kernel on this machine (a virtual machine's is several
// times a bare-metal one's): the yardstick for the full samples below, which make about 40
// calls and have the kernel generate about 25 files.
void BM_Syscall_Getppid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(::syscall(SYS_getppid));
}
BENCHMARK(BM_Syscall_Getppid);

// One full sample as the agent takes it with `--rootfs /`: the Sampler built the way the agent
// builds it (SourceOptions, no source switched off), so every source that is on by default runs,
// filesystem and os included. CPU time is the sampling thread's and includes the kernel's time
// generating the procfs files (it is charged to that thread).
//
// The filesystem source does its statfs calls on a worker thread of its own, woken by each
// sample, so a sample costs that thread's CPU too: the counter `statfs_worker_us` is the CPU time
// of the process's other threads per sample (/proc/self/task/TID/schedstat), to be added to the
// CPU column (bench/run.py does). For one worker round per sample, each iteration ends with an
// untimed pause in which the worker does that sample's statfs calls, as it does between two
// samples of the agent; a tight loop would post rounds faster than the worker takes them and
// count one round for several samples (`statfs_worker_wakeups` per sample shows it).
constexpr auto kSamplePace = std::chrono::microseconds(500);

// CPU time (ns) and wake-ups (timeslices) of this process's threads other than the calling one.
struct OtherThreads {
  std::uint64_t cpu_ns = 0;
  std::uint64_t slices = 0;
};

OtherThreads other_threads() {
  OtherThreads out;
  const std::string self = std::to_string(::gettid());
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    if (task.path().filename() == self) continue;
    std::ifstream f(task.path() / "schedstat");
    std::uint64_t run_ns = 0, wait_ns = 0, slices = 0;
    if (f >> run_ns >> wait_ns >> slices) {
      out.cpu_ns += run_ns;
      out.slices += slices;
    }
  }
  return out;
}

// System CPU time of the calling thread, in microseconds.
double thread_system_us() {
  rusage r{};
  ::getrusage(RUSAGE_THREAD, &r);
  return static_cast<double>(r.ru_stime.tv_sec) * 1e6 + static_cast<double>(r.ru_stime.tv_usec);
}

// `live`: each sample must hold the basic readings. Any source the agent would run but that
// could not be built (e.g. no rootfs) skips the benchmark: the figure is for the whole set.
void run_full_sample(benchmark::State& state, const HostFs& fs, bool live) {
  const long clk_tck = ::sysconf(_SC_CLK_TCK);
  const SourceOptions options{{}, fs, real_clock(), clk_tck > 0 ? clk_tck : 100, "bench-node"};
  Sampler sampler(options, {});
  if (!sampler.skipped().empty()) {
    std::string why = "sources left out:";
    for (const std::string& s : sampler.skipped()) why += " " + s + ";";
    state.SkipWithError(why.c_str());
    return;
  }
  // The steady state has a previous /proc/stat and a statfs worker that has answered once.
  benchmark::DoNotOptimize(sampler.sample());
  std::this_thread::sleep_for(kSamplePace);
  const OtherThreads before = other_threads();
  const double kernel_before = thread_system_us();
  std::size_t mounts = 0, errors = 0;
  for (auto _ : state) {
    Snapshot snap = sampler.sample();
    if (live && !snap.ok()) {
      state.SkipWithError(
          ("sample incomplete: " +
           (snap.errors.empty() ? std::string("no uptime, load or threads") : snap.errors.front()))
              .c_str());
      break;
    }
    mounts = snap.filesystems.size();
    errors = snap.errors.size();
    benchmark::DoNotOptimize(snap);
    state.PauseTiming();
    std::this_thread::sleep_for(kSamplePace);
    state.ResumeTiming();
  }
  const double kernel_after = thread_system_us();
  const OtherThreads after = other_threads();
  // The sampling thread's system time: the kernel generating the files and serving the calls
  // (the untimed pauses' sleep calls add about a microsecond).
  state.counters["kernel_us"] =
      benchmark::Counter(kernel_after - kernel_before, benchmark::Counter::kAvgIterations);
  state.counters["statfs_worker_us"] = benchmark::Counter(
      static_cast<double>(after.cpu_ns - before.cpu_ns) / 1e3, benchmark::Counter::kAvgIterations);
  state.counters["statfs_worker_wakeups"] = benchmark::Counter(
      static_cast<double>(after.slices - before.slices), benchmark::Counter::kAvgIterations);
  // What the last timed sample did, for the results table: "17 sources, 3 mounts, 0 errors".
  auto count = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  state.SetLabel(count(sampler.running().size(), "source") + ", " + count(mounts, "mount") + ", " +
                 count(errors, "error"));
}

// This machine's /proc, /sys and /.
void BM_Sampler_FullSample(benchmark::State& state) {
  run_full_sample(state, live_fs_rootfs(), true);
}
BENCHMARK(BM_Sampler_FullSample);

// The same on the 64-cpu fixture host (regular files instead of procfs) with this machine's / as
// the rootfs. A source whose file the fixture lacks (it has no proc/1/mountinfo, so filesystem
// finds no mount) adds an error line per sample instead of its families: the label counts them.
void BM_Sampler_FullSample_Fixture64cpu(benchmark::State& state) {
  run_full_sample(state, fixture64_fs_rootfs(), false);
}
BENCHMARK(BM_Sampler_FullSample_Fixture64cpu);

}  // namespace
}  // namespace nodeagent::nodeinfo
