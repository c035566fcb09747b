// Microbenchmarks of the renderers. The agent renders each snapshot once per sampling interval
// (not per request), so these costs are paid once a second, next to the sample itself.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "nodeinfo/host_fs.h"
#include "nodeinfo/sampler.h"
#include "nodeinfo/snapshot.h"
#include "render/json.h"
#include "render/prometheus.h"
#include "render/text.h"

namespace nodeagent::render {
namespace {

// A steady-state snapshot of this machine: the second sample, so CPU utilisation is present.
const nodeinfo::Snapshot& live_snapshot() {
  static const nodeinfo::Snapshot snap = [] {
    auto fs = nodeinfo::HostFs::open("/proc", "/sys");
    if (!fs) {
      std::fprintf(stderr, "microbench: %s\n", nodeinfo::describe_path_error(fs.error()).c_str());
      std::exit(1);
    }
    nodeinfo::Sampler sampler(*fs, "bench-node");
    (void)sampler.sample();
    return sampler.sample();
  }();
  return snap;
}

template <class Render>
void run_renderer(benchmark::State& state, Render render) {
  const nodeinfo::Snapshot& snap = live_snapshot();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto out = render(snap);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

void BM_RenderText(benchmark::State& state) {
  run_renderer(state, [&state](const nodeinfo::Snapshot& s) {
    auto text = render_text(s);
    if (!text) state.SkipWithError("render_text failed");
    return text ? std::move(*text) : std::string();
  });
}
void BM_RenderJson(benchmark::State& state) {
  run_renderer(state, [](const nodeinfo::Snapshot& s) { return render_json(s); });
}
void BM_RenderPrometheus(benchmark::State& state) {
  run_renderer(state, [](const nodeinfo::Snapshot& s) { return render_prometheus(s); });
}
BENCHMARK(BM_RenderText);
BENCHMARK(BM_RenderJson);
BENCHMARK(BM_RenderPrometheus);

}  // namespace
}  // namespace nodeagent::render
