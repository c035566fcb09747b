#include "agent/self_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "agent/self_proc.h"
#include "metrics/family.h"

namespace nodeagent::agent {
namespace {

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
  using metrics::Type;
  metrics::FamilySet set;

  auto& requests = set.add(
      "nodeagent_http_requests_total",
      "HTTP requests answered by the agent's routes, by route and status code.", Type::kCounter);
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    auto route = static_cast<Route>(r);
    for (unsigned code : RequestCounters::kCodes) {
      std::uint64_t n = in.requests.get(route, code);
      if (n == 0 && code != 200) continue;  // keep 200 series present so rates start at zero
      const std::string code_text = code == 0 ? "other" : std::to_string(code);
      requests.add({{"route", route_path(route)}, {"code", code_text}}, n);
    }
  }

  const http::ServerStats& s = in.server;
  // Requests the server itself refused before any route saw them (route="none").
  const std::pair<unsigned, std::uint64_t> refused[] = {
      {400, s.bad_requests.load() + s.body_rejected.load()},
      {408, s.request_timeouts.load()},
      {431, s.header_too_large.load()}};
  for (const auto& [code, n] : refused) {
    if (n != 0) requests.add({{"route", "none"}, {"code", std::to_string(code)}}, n);
  }

  auto one = [&set](std::string name, std::string help, Type type, metrics::Value v) {
    set.add(std::move(name), std::move(help), type).add(v);
  };
  one("nodeagent_http_streams_dropped_total",
      "Server-Sent Events watchers dropped for falling too far behind (never reading).",
      Type::kCounter, std::uint64_t{s.streams_dropped.load()});
  one("nodeagent_http_connections_open", "Client connections open now.", Type::kGauge,
      std::uint64_t{s.connections_open.load()});
  one("nodeagent_http_connections_accepted_total", "Client connections accepted.", Type::kCounter,
      std::uint64_t{s.connections_accepted.load()});
  one("nodeagent_http_connections_rejected_total",
      "Connections closed at once because --max-connections were open.", Type::kCounter,
      std::uint64_t{s.connections_rejected.load()});

  one("nodeagent_last_sample_timestamp_seconds",
      "Unix time of the sample being served; its age is time() minus this.", Type::kGauge,
      in.sample_timestamp_seconds);
  one("nodeagent_sample_duration_seconds",
      "Wall time the last sample took to read and parse every source.", Type::kGauge,
      in.sample_duration_seconds);
  one("nodeagent_sample_source_errors",
      "Sources that could not be read or parsed in the last sample.", Type::kGauge,
      in.sample_errors);

  // A process reading that failed leaves its family out (no HELP, TYPE or sample), not 0.
  const ProcessStats& p = in.process;
  if (p.resident_bytes) {
    one("process_resident_memory_bytes", "Resident memory of the agent (VmRSS).", Type::kGauge,
        *p.resident_bytes);
  }
  if (p.cpu_seconds) {
    one("process_cpu_seconds_total", "User and system CPU time of the agent.", Type::kCounter,
        *p.cpu_seconds);
  }
  one("process_start_time_seconds", "Unix time the agent started.", Type::kGauge,
      p.start_time_seconds);
  if (p.open_fds) {
    one("process_open_fds", "Open file descriptors of the agent.", Type::kGauge, *p.open_fds);
  }
  set.add("nodeagent_build_info", "Always 1; the version label names the build.", Type::kGauge)
      .add({{"version", PROJECT_VERSION}}, std::uint64_t{1});

  std::string out;
  out.reserve(4096);
  metrics::append_text(out, set);
  return out;
}

}  // namespace nodeagent::agent
