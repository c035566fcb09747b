#include "render/json.h"

#include <fmt/format.h>
#include <time.h>

#include <cmath>
#include <iterator>

#include "nodeagent/printable.h"
#include "render/json_writer.h"

namespace nodeagent::render {
namespace {

using nodeinfo::CpuSeconds;
using nodeinfo::kCpuModeCount;

using Writer = JsonWriter;

void write_modes(Writer& w, const std::array<double, kCpuModeCount>& values) {
  w.begin_object();
  for (std::size_t m = 0; m < kCpuModeCount; ++m)
    w.key(nodeinfo::cpu_mode_name(m)).value(values[m]);
  w.end_object();
}

void write_pressure_stat(Writer& w, const nodeinfo::PressureStat& p) {
  w.begin_object();
  w.key("avg10").value(p.avg10);
  w.key("avg60").value(p.avg60);
  w.key("avg300").value(p.avg300);
  w.key("total_seconds").value(static_cast<double>(p.total_us) / 1e6);
  w.end_object();
}

void write_pressure(Writer& w, const std::optional<nodeinfo::Pressure>& p) {
  if (!p) return w.null();
  w.begin_object();
  write_pressure_stat(w.key("some"), p->some);
  if (p->full) {
    write_pressure_stat(w.key("full"), *p->full);
  } else {
    w.key("full").null();
  }
  w.end_object();
}

void write_cpu(Writer& w, const nodeinfo::Snapshot& s) {
  if (!s.cpu_seconds || !s.cpu_count) return w.null();
  w.begin_object();
  w.key("count").value(*s.cpu_count);
  write_modes(w.key("seconds"), *s.cpu_seconds);
  if (s.cpu_utilisation) {
    write_modes(w.key("utilisation"), *s.cpu_utilisation);
  } else {
    w.key("utilisation").null();
  }
  w.key("per_cpu").begin_array();
  for (const auto& c : s.per_cpu_seconds) {
    w.begin_object();
    w.key("cpu").value(c.cpu);
    write_modes(w.key("seconds"), c.seconds);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_memory(Writer& w, const nodeinfo::Memory& m) {
  if (!m.total) return w.null();
  w.begin_object();
  w.key("total_bytes").value(m.total);
  w.key("available_bytes").value(m.available);
  w.key("used_bytes").value(m.used());
  w.key("free_bytes").value(m.free);
  w.key("buffers_bytes").value(m.buffers);
  w.key("cached_bytes").value(m.cached);
  w.key("swap_total_bytes").value(m.swap_total);
  w.key("swap_free_bytes").value(m.swap_free);
  w.key("swap_used_bytes").value(m.swap_used());
  w.end_object();
}

void write_disks(Writer& w, const std::vector<nodeinfo::DiskReading>& disks) {
  w.begin_array();
  for (const auto& d : disks) {
    w.begin_object();
    w.key("device").value(d.device);
    w.key("read_bytes").value(d.read_bytes);
    w.key("written_bytes").value(d.written_bytes);
    w.key("io_time_seconds").value(d.io_time_seconds);
    w.key("read_bytes_per_second").value(d.read_bytes_per_second);
    w.key("written_bytes_per_second").value(d.written_bytes_per_second);
    w.end_object();
  }
  w.end_array();
}

void write_net_devices(Writer& w, const std::vector<nodeinfo::NetDeviceReading>& devices) {
  w.begin_array();
  for (const auto& d : devices) {
    w.begin_object();
    w.key("device").value(d.device);
    w.key("receive_bytes").value(d.receive_bytes);
    w.key("transmit_bytes").value(d.transmit_bytes);
    w.key("receive_packets").value(d.receive_packets);
    w.key("transmit_packets").value(d.transmit_packets);
    w.key("receive_errs").value(d.receive_errs);
    w.key("transmit_errs").value(d.transmit_errs);
    w.key("receive_drop").value(d.receive_drop);
    w.key("transmit_drop").value(d.transmit_drop);
    w.key("receive_bytes_per_second").value(d.receive_bytes_per_second);
    w.key("transmit_bytes_per_second").value(d.transmit_bytes_per_second);
    w.end_object();
  }
  w.end_array();
}

void write_filesystems(Writer& w, const std::vector<nodeinfo::FilesystemReading>& filesystems) {
  w.begin_array();
  for (const auto& f : filesystems) {
    w.begin_object();
    w.key("mountpoint").value(f.mountpoint);
    w.key("device").value(f.device);
    w.key("fstype").value(f.fstype);
    w.key("readonly").value(f.readonly);
    w.key("size_bytes").value(f.size_bytes);
    w.key("free_bytes").value(f.free_bytes);
    w.key("avail_bytes").value(f.avail_bytes);
    w.key("files").value(f.files);
    w.key("files_free").value(f.files_free);
    w.key("error").value(f.error);
    w.end_object();
  }
  w.end_array();
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out.append("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++p;
      continue;
    }
    // Copy a well-formed UTF-8 sequence through; anything else becomes U+FFFD.
    const std::size_t at =
        static_cast<std::size_t>(p - reinterpret_cast<const unsigned char*>(s.data()));
    if (const std::size_t len = utf8_sequence_length(s, at); len != 0) {
      out.append(reinterpret_cast<const char*>(p), len);
      p += len;
    } else {
      out.append("\xef\xbf\xbd");
      ++p;
    }
  }
  out.push_back('"');
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  const std::int64_t ms = unix_ms(t);
  std::int64_t secs = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) frac += 1000, secs -= 1;
  const auto tt = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string render_json(const nodeinfo::Snapshot& s) {
  std::string out;
  out.reserve(1536 + s.per_cpu_seconds.size() * 200 + s.errors.size() * 96 +
              (s.disks.size() + s.net_devices.size() + s.filesystems.size()) * 256);
  Writer w(out);
  w.begin_object();
  w.key("node").value(s.node_name);
  w.key("time").value(format_rfc3339(s.taken_at));
  w.key("time_unix_seconds").value(static_cast<double>(unix_ms(s.taken_at)) / 1e3);
  w.key("uptime_seconds").value(s.uptime_seconds);
  if (s.boot_time) {
    w.key("boot_time")
        .value(format_rfc3339(
            std::chrono::system_clock::time_point(std::chrono::seconds(*s.boot_time))));
  } else {
    w.key("boot_time").null();
  }
  w.key("boot_time_unix_seconds").value(s.boot_time);
  w.key("load");
  if (s.load) {
    w.begin_object();
    w.key("1m").value(s.load->load1);
    w.key("5m").value(s.load->load5);
    w.key("15m").value(s.load->load15);
    w.end_object();
  } else {
    w.null();
  }
  w.key("threads");
  if (s.threads) {
    w.begin_object();
    w.key("running").value(s.threads->running);
    w.key("total").value(s.threads->total);
    w.end_object();
  } else {
    w.null();
  }
  w.key("processes");
  if (s.procs_running && s.procs_blocked && s.forks && s.context_switches) {
    w.begin_object();
    w.key("running").value(*s.procs_running);
    w.key("blocked").value(*s.procs_blocked);
    w.key("forks_total").value(*s.forks);
    w.key("context_switches_total").value(*s.context_switches);
    w.end_object();
  } else {
    w.null();
  }
  write_cpu(w.key("cpu"), s);
  write_memory(w.key("memory"), s.memory);
  w.key("pressure").begin_object();
  write_pressure(w.key("cpu"), s.pressure.cpu);
  write_pressure(w.key("memory"), s.pressure.memory);
  write_pressure(w.key("io"), s.pressure.io);
  w.end_object();
  w.key("numa_nodes").value(s.numa_nodes);
  w.key("kernel_release").value(s.kernel_release);
  w.key("os_pretty_name").value(s.os_pretty_name);
  write_disks(w.key("disks"), s.disks);
  write_net_devices(w.key("network_devices"), s.net_devices);
  write_filesystems(w.key("filesystems"), s.filesystems);
  w.key("errors").begin_array();
  for (const std::string& e : s.errors) w.value(e);
  w.end_array();
  w.end_object();
  return out;
}

std::string render_sse_event(const nodeinfo::Snapshot& snapshot, std::string_view json) {
  std::string out;
  out.reserve(json.size() + 48);
  fmt::format_to(std::back_inserter(out),
                 "id: {}\nevent: node\ndata: ", unix_ms(snapshot.taken_at));
  out.append(json);
  out.append("\n\n");
  return out;
}

std::string render_sse_event(const nodeinfo::Snapshot& snapshot) {
  return render_sse_event(snapshot, render_json(snapshot));
}

}  // namespace nodeagent::render
