#include "agent/self_metrics.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>

#include "agent/self_proc.h"

namespace nodeagent::agent {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <class T>
void sample(std::string& out, std::string_view name, T value) {
  fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
}

Error errno_error(int err, std::string detail) {
  return Error{{err, boost::system::system_category()}, std::move(detail)};
}

Result<std::uint64_t> resident_bytes(const nodeinfo::HostRoot& self) {
  auto text = self.read_file("statm");
  if (!text) return text.error();
  auto statm = parse_statm(*text);
  if (!statm) return statm.error();
  const long page = ::sysconf(_SC_PAGESIZE);
  if (page <= 0) return Error{Errc::kUnavailable, "sysconf(_SC_PAGESIZE)"};
  return statm->resident_pages * static_cast<std::uint64_t>(page);
}

Result<double> cpu_seconds() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return errno_error(errno, "getrusage(RUSAGE_SELF)");
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

ProcessStats read_process_stats(double start_time_seconds, const Result<nodeinfo::HostRoot>& self) {
  ProcessStats s;
  if (self) {
    s.resident_bytes = resident_bytes(*self);
    s.open_fds = self->count_entries("fd");
  } else {
    s.resident_bytes = self.error();
    s.open_fds = self.error();
  }
  s.cpu_seconds = cpu_seconds();
  s.start_time_seconds = start_time_seconds;
  return s;
}

std::string render_self_metrics(const SelfMetricsInput& in) {
  std::string out;
  out.reserve(4096);

  family(out, "nodeagent_http_requests_total", "counter",
         "HTTP requests answered by the agent's routes, by route and status code.");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    auto route = static_cast<Route>(r);
    for (unsigned code : RequestCounters::kCodes) {
      std::uint64_t n = in.requests.get(route, code);
      if (n == 0 && code != 200) continue;  // keep 200 series present so rates start at zero
      if (code == 0) {
        fmt::format_to(std::back_inserter(out),
                       "nodeagent_http_requests_total{{route=\"{}\",code=\"other\"}} {}\n",
                       route_path(route), n);
      } else {
        fmt::format_to(std::back_inserter(out),
                       "nodeagent_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n",
                       route_path(route), code, n);
      }
    }
  }

  const http::ServerStats& s = in.server;
  // Requests the server itself refused before any route saw them (route="none").
  const std::pair<unsigned, std::uint64_t> refused[] = {
      {400, s.bad_requests.load() + s.body_rejected.load()},
      {408, s.request_timeouts.load()},
      {431, s.header_too_large.load()}};
  for (const auto& [code, n] : refused) {
    if (n == 0) continue;
    fmt::format_to(std::back_inserter(out),
                   "nodeagent_http_requests_total{{route=\"none\",code=\"{}\"}} {}\n", code, n);
  }

  family(out, "nodeagent_http_streams_dropped_total", "counter",
         "Server-Sent Events watchers dropped for falling too far behind (never reading).");
  sample(out, "nodeagent_http_streams_dropped_total", s.streams_dropped.load());
  family(out, "nodeagent_http_connections_open", "gauge", "Client connections open now.");
  sample(out, "nodeagent_http_connections_open", s.connections_open.load());
  family(out, "nodeagent_http_connections_accepted_total", "counter",
         "Client connections accepted.");
  sample(out, "nodeagent_http_connections_accepted_total", s.connections_accepted.load());
  family(out, "nodeagent_http_connections_rejected_total", "counter",
         "Connections closed at once because --max-connections were open.");
  sample(out, "nodeagent_http_connections_rejected_total", s.connections_rejected.load());

  family(out, "nodeagent_last_sample_timestamp_seconds", "gauge",
         "Unix time of the sample being served; its age is time() minus this.");
  sample(out, "nodeagent_last_sample_timestamp_seconds", in.sample_timestamp_seconds);
  family(out, "nodeagent_sample_duration_seconds", "gauge",
         "Wall time the last sample took to read and parse every source.");
  sample(out, "nodeagent_sample_duration_seconds", in.sample_duration_seconds);
  family(out, "nodeagent_sample_source_errors", "gauge",
         "Sources that could not be read or parsed in the last sample.");
  sample(out, "nodeagent_sample_source_errors", in.sample_errors);

  // A process reading that failed leaves its family out (no HELP, TYPE or sample), not 0.
  const ProcessStats& p = in.process;
  if (p.resident_bytes) {
    family(out, "process_resident_memory_bytes", "gauge", "Resident memory of the agent (VmRSS).");
    sample(out, "process_resident_memory_bytes", *p.resident_bytes);
  }
  if (p.cpu_seconds) {
    family(out, "process_cpu_seconds_total", "counter", "User and system CPU time of the agent.");
    sample(out, "process_cpu_seconds_total", *p.cpu_seconds);
  }
  family(out, "process_start_time_seconds", "gauge", "Unix time the agent started.");
  sample(out, "process_start_time_seconds", p.start_time_seconds);
  if (p.open_fds) {
    family(out, "process_open_fds", "gauge", "Open file descriptors of the agent.");
    sample(out, "process_open_fds", *p.open_fds);
  }

  family(out, "nodeagent_build_info", "gauge", "Always 1; the version label names the build.");
  fmt::format_to(std::back_inserter(out), "nodeagent_build_info{{version=\"{}\"}} 1\n",
                 PROJECT_VERSION);
  return out;
}

}  // namespace nodeagent::agent
