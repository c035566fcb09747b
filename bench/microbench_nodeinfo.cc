// Microbenchmarks of the sampling path: each parser on real input, HostRoot reads, and one full
// Sampler::sample() (every reader), which issue 6 budgets at 50 us of CPU.
//
// Inputs come from this machine's /proc (what the agent really parses) and, for /proc/stat, from
// the 64-cpu fixture host too, because that file grows with the cpu count.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "nodeinfo/host_fs.h"
#include "nodeinfo/parsers.h"
#include "nodeinfo/sampler.h"
#include "nodeinfo/snapshot.h"

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

const HostFs& live_fs() {
  static const HostFs fs = open_or_die("/proc", "/sys");
  return fs;
}

const HostFs& fixture64_fs() {
  static const HostFs fs =
      open_or_die(std::string(kFixture64) + "/proc", std::string(kFixture64) + "/sys");
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

// One full sample of this machine: every file read and parsed, CPU deltas computed. CPU time
// includes the kernel's time generating the procfs files (it is charged to this thread).
void BM_Sampler_FullSample(benchmark::State& state) {
  Sampler sampler(live_fs(), "bench-node");
  benchmark::DoNotOptimize(sampler.sample());  // the steady state has a previous /proc/stat
  for (auto _ : state) {
    Snapshot snap = sampler.sample();
    if (!snap.ok()) state.SkipWithError("sample incomplete");
    benchmark::DoNotOptimize(snap);
  }
}
BENCHMARK(BM_Sampler_FullSample);

// The same on the 64-cpu fixture host (regular files instead of procfs).
void BM_Sampler_FullSample_Fixture64cpu(benchmark::State& state) {
  Sampler sampler(fixture64_fs(), "bench-node");
  benchmark::DoNotOptimize(sampler.sample());
  for (auto _ : state) {
    Snapshot snap = sampler.sample();
    benchmark::DoNotOptimize(snap);
  }
}
BENCHMARK(BM_Sampler_FullSample_Fixture64cpu);

}  // namespace
}  // namespace nodeagent::nodeinfo
