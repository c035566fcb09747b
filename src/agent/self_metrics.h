#pragma once
// The agent's own Prometheus metrics: requests by route and code, connections, sampling, and the
// process's footprint. Rendered on the sampling thread once per interval and appended to the node
// metrics, so /metrics stays a pre-rendered body (its counters are at most one interval old).

#include <cstdint>
#include <string>

#include "agent/routes.h"
#include "http/server.h"

namespace nodeagent::agent {

// The process's own footprint. Read from this process's /proc/self, which is the agent's own
// procfs mount, never the host's (--procfs).
struct ProcessStats {
  std::uint64_t resident_bytes = 0;  // /proc/self/statm field 2 x page size
  double cpu_seconds = 0;            // getrusage(RUSAGE_SELF) user + system
  double start_time_seconds = 0;     // unix time the agent started
  std::uint64_t open_fds = 0;        // entries in /proc/self/fd
};
ProcessStats read_process_stats(double start_time_seconds);

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
