#include "render/prometheus.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

namespace nodeagent::render {
namespace {

using nodeinfo::CpuMode;

class Out {
 public:
  explicit Out(std::string& s) : s_(s) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(s_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  template <class T>
  void sample(std::string_view name, T value) {
    s_.append(name);
    s_.push_back(' ');
    append_value(value);
  }
  template <class T>
  void gauge(std::string_view name, std::string_view help, const std::optional<T>& value) {
    if (!value) return;
    family(name, "gauge", help);
    sample(name, *value);
  }
  template <class T>
  void counter(std::string_view name, std::string_view help, const std::optional<T>& value) {
    if (!value) return;
    family(name, "counter", help);
    sample(name, *value);
  }
  void append_value(double v) {
    // Shortest round-trip; Go's ParseFloat reads the exponent forms fmt may produce.
    if (std::isnan(v)) {
      s_.append("NaN\n");
    } else if (std::isinf(v)) {
      s_.append(v > 0 ? "+Inf\n" : "-Inf\n");
    } else {
      fmt::format_to(std::back_inserter(s_), "{}\n", v);
    }
  }
  template <class T>
  void append_value(T v) {
    fmt::format_to(std::back_inserter(s_), "{}\n", v);
  }
  std::string& str() { return s_; }

 private:
  std::string& s_;
};

// node_exporter's label order for node_cpu_seconds_total: modes sorted by name.
constexpr std::array<CpuMode, 8> kCpuModesSorted = {
    CpuMode::kIdle,    CpuMode::kIowait, CpuMode::kIrq,    CpuMode::kNice,
    CpuMode::kSoftirq, CpuMode::kSteal,  CpuMode::kSystem, CpuMode::kUser};

void pressure_counter(Out& o, std::string_view name, std::string_view help,
                      const nodeinfo::PressureStat& p) {
  o.family(name, "counter", help);
  o.sample(name, static_cast<double>(p.total_us) / 1e6);
}

// Whole and fractional seconds converted separately: a 64-bit nanosecond count does not fit a
// double exactly, and converting it in one step prints 1716200000.2499998 for ...0.25.
double unix_seconds(std::chrono::system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(ns);
  return static_cast<double>(secs.count()) + static_cast<double>((ns - secs).count()) / 1e9;
}

}  // namespace

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '"':
        out.append("\\\"");
        break;
      case '\n':
        out.append("\\n");
        break;
      default:
        out.push_back(c);
    }
  }
}

std::string render_prometheus(const nodeinfo::Snapshot& s) {
  std::string buf;
  buf.reserve(4096 + s.per_cpu_seconds.size() * 560);
  Out o(buf);

  // /proc/stat btime; the agent's clock at sampling time.
  o.gauge("node_boot_time_seconds", "Node boot time, in unixtime.", s.boot_time);
  o.gauge("node_time_seconds", "System time in seconds since epoch (1970).",
          std::optional<double>(unix_seconds(s.taken_at)));
  o.gauge("nodeagent_uptime_seconds", "Seconds since boot, from /proc/uptime.", s.uptime_seconds);

  // /proc/loadavg
  if (s.load) {
    o.gauge("node_load1", "1m load average.", std::optional<double>(s.load->load1));
    o.gauge("node_load5", "5m load average.", std::optional<double>(s.load->load5));
    o.gauge("node_load15", "15m load average.", std::optional<double>(s.load->load15));
  }
  // No _total suffix: these are gauges (promtool rejects _total on non-counters).
  if (s.threads) {
    o.gauge("nodeagent_threads", "Kernel scheduling entities (threads) that exist, /proc/loadavg.",
            std::optional<std::uint64_t>(s.threads->total));
    o.gauge("nodeagent_threads_running",
            "Kernel scheduling entities (threads) currently runnable, /proc/loadavg.",
            std::optional<std::uint64_t>(s.threads->running));
  }

  // /proc/stat
  o.gauge("node_procs_running", "Number of processes in runnable state.", s.procs_running);
  o.gauge("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.",
          s.procs_blocked);
  o.counter("node_context_switches_total", "Total number of context switches.", s.context_switches);
  o.counter("node_forks_total", "Total number of forks.", s.forks);
  o.counter("node_intr_total", "Total number of interrupts serviced.", s.interrupts);
  if (!s.per_cpu_seconds.empty()) {
    o.family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
    for (const auto& c : s.per_cpu_seconds) {
      for (CpuMode m : kCpuModesSorted) {
        fmt::format_to(std::back_inserter(buf), "node_cpu_seconds_total{{cpu=\"{}\",mode=\"{}\"}} ",
                       c.cpu, nodeinfo::cpu_mode_name(m));
        o.append_value(c.seconds[static_cast<std::size_t>(m)]);
      }
    }
    o.family("node_cpu_guest_seconds_total", "counter",
             "Seconds the CPUs spent in guests (VMs) for each mode.");
    for (const auto& c : s.per_cpu_seconds) {
      fmt::format_to(std::back_inserter(buf),
                     "node_cpu_guest_seconds_total{{cpu=\"{}\",mode=\"nice\"}} ", c.cpu);
      o.append_value(c.seconds[static_cast<std::size_t>(CpuMode::kGuestNice)]);
      fmt::format_to(std::back_inserter(buf),
                     "node_cpu_guest_seconds_total{{cpu=\"{}\",mode=\"user\"}} ", c.cpu);
      o.append_value(c.seconds[static_cast<std::size_t>(CpuMode::kGuest)]);
    }
  }
  o.gauge("nodeagent_cpus_online", "CPUs with a line in /proc/stat (online CPUs).", s.cpu_count);
  o.gauge("nodeagent_numa_nodes", "NUMA nodes online (/sys/devices/system/node/online).",
          s.numa_nodes);

  // /proc/meminfo: node_exporter's one gauge per line, named after the kernel's key
  // ("Active(anon)" -> node_memory_Active_anon_bytes; no "_bytes" for a line without "kB", e.g.
  // node_memory_HugePages_Total). Their camelCase is node_exporter's, kept for its dashboards.
  std::string name;  // reused: one allocation for every line
  for (const auto& line : s.meminfo) {
    name.assign("node_memory_");
    for (char c : line.key) {
      if (c == '(') {
        name.push_back('_');
      } else if (c != ')') {
        name.push_back(c);
      }
    }
    if (line.bytes) name.append("_bytes");
    fmt::format_to(std::back_inserter(buf),
                   "# HELP {0} Memory information field {1}.\n# TYPE {0} gauge\n", name,
                   std::string_view(name).substr(12));
    o.sample(name, line.value);
  }

  // /proc/pressure/*: node_exporter exports "some" as waiting, "full" as stalled; cpu "full" is
  // always zero at system level, so like node_exporter we leave it out.
  if (s.pressure.cpu) {
    pressure_counter(o, "node_pressure_cpu_waiting_seconds_total",
                     "Total time in seconds that processes have waited for CPU time",
                     s.pressure.cpu->some);
  }
  if (s.pressure.memory) {
    pressure_counter(o, "node_pressure_memory_waiting_seconds_total",
                     "Total time in seconds that processes have waited for memory",
                     s.pressure.memory->some);
    if (s.pressure.memory->full) {
      pressure_counter(o, "node_pressure_memory_stalled_seconds_total",
                       "Total time in seconds no process could make progress due to memory "
                       "congestion",
                       *s.pressure.memory->full);
    }
  }
  if (s.pressure.io) {
    pressure_counter(o, "node_pressure_io_waiting_seconds_total",
                     "Total time in seconds that processes have waited due to IO congestion",
                     s.pressure.io->some);
    if (s.pressure.io->full) {
      pressure_counter(o, "node_pressure_io_stalled_seconds_total",
                       "Total time in seconds no process could make progress due to IO "
                       "congestion",
                       *s.pressure.io->full);
    }
  }

  // Info metric: the value is always 1, the facts are labels.
  if (s.kernel_release) {
    o.family("nodeagent_node_info", "gauge", "Node name and kernel release; value is always 1.");
    buf.append("nodeagent_node_info{node=\"");
    append_label_value(buf, s.node_name);
    buf.append("\",kernel_release=\"");
    append_label_value(buf, *s.kernel_release);
    buf.append("\"} 1\n");
  }
  if (s.uname) {
    const auto& u = *s.uname;
    o.family("node_uname_info", "gauge",
             "Labeled system information as provided by the uname system call.");
    const std::pair<std::string_view, std::string_view> labels[] = {
        {"domainname", u.domainname}, {"machine", u.machine}, {"nodename", s.node_name},
        {"release", u.release},       {"sysname", u.sysname}, {"version", u.version}};
    buf.append("node_uname_info{");
    for (const auto& [label, value] : labels) {
      if (label != "domainname") buf.push_back(',');
      buf.append(label);
      buf.append("=\"");
      append_label_value(buf, value);
      buf.push_back('"');
    }
    buf.append("} 1\n");
  }
  return buf;
}

}  // namespace nodeagent::render
