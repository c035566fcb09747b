#pragma once
// The agent's own Prometheus metrics: requests by route and code, connections, sampling, and the
// process's footprint. Rendered on the sampling thread once per interval and appended to the node
// metrics, so /metrics stays a pre-rendered body (its counters are at most one interval old).

#include <cstdint>
#include <string>

#include "agent/routes.h"
#include "http/server.h"
#include "nodeagent/error.h"
#include "nodeinfo/host_fs.h"

namespace nodeagent::agent {

// The process's own footprint. Read from this process's /proc/self, which is the agent's own
// procfs mount, never the host's (--procfs). A reading that failed stays an Error, and its
// metric family is left out of the output: a degraded reading is missing, never invented.
struct ProcessStats {
  // /proc/self/statm field 2 x page size
  Result<std::uint64_t> resident_bytes{Error{Errc::kUnavailable, "not read"}};
  // getrusage(RUSAGE_SELF) user + system
  Result<double> cpu_seconds{Error{Errc::kUnavailable, "not read"}};
  double start_time_seconds = 0;  // unix time the agent started
  // entries in /proc/self/fd, less the one reading it
  Result<std::uint64_t> open_fds{Error{Errc::kUnavailable, "not read"}};
};

// Reads "statm" and counts "fd" below `self`: the agent's own /proc/self as opened at start-up
// (open_self_proc()), or the Error it could not be opened with, which every reading from it then
// carries. Tests pass a fixture directory instead.
ProcessStats read_process_stats(double start_time_seconds, const Result<nodeinfo::HostRoot>& self);

struct SelfMetricsInput {
  const RequestCounters& requests;
  const http::ServerStats& server;
  ProcessStats process;
  double sample_timestamp_seconds = 0;  // unix time of the sample being published
  double sample_duration_seconds = 0;   // CPU-bound cost of reading every source
  std::uint64_t sample_errors = 0;      // sources that failed in this sample
};

std::string render_self_metrics(const SelfMetricsInput& in);

}  // namespace nodeagent::agent
