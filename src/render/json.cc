#include "render/json.h"

#include <fmt/format.h>
#include <time.h>

#include <cmath>
#include <iterator>

namespace nodeagent::render {
namespace {

using nodeinfo::CpuSeconds;
using nodeinfo::kCpuModeCount;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void raw(std::string_view s) { out_.append(s); }
  void key(std::string_view k) {
    out_.push_back('"');
    out_.append(k);  // keys are our own ASCII literals
    out_.append("\":");
  }
  void null() { out_.append("null"); }
  void number(double v) {
    // JSON has no NaN/Infinity; a reading that produced one is reported missing.
    if (!std::isfinite(v)) return null();
    fmt::format_to(std::back_inserter(out_), "{}", v);
  }
  void number(std::uint64_t v) { fmt::format_to(std::back_inserter(out_), "{}", v); }
  void number(std::int64_t v) { fmt::format_to(std::back_inserter(out_), "{}", v); }
  void number(unsigned v) { number(static_cast<std::uint64_t>(v)); }
  template <class T>
  void number(const std::optional<T>& v) {
    if (v) {
      number(*v);
    } else {
      null();
    }
  }
  void string(std::string_view s) { append_json_string(out_, s); }

 private:
  std::string& out_;
};

void write_modes(Writer& w, const std::array<double, kCpuModeCount>& values) {
  w.raw("{");
  for (std::size_t m = 0; m < kCpuModeCount; ++m) {
    if (m > 0) w.raw(",");
    w.key(nodeinfo::cpu_mode_name(m));
    w.number(values[m]);
  }
  w.raw("}");
}

void write_pressure_stat(Writer& w, const nodeinfo::PressureStat& p) {
  w.raw("{");
  w.key("avg10");
  w.number(p.avg10);
  w.raw(",");
  w.key("avg60");
  w.number(p.avg60);
  w.raw(",");
  w.key("avg300");
  w.number(p.avg300);
  w.raw(",");
  w.key("total_seconds");
  w.number(static_cast<double>(p.total_us) / 1e6);
  w.raw("}");
}

void write_pressure(Writer& w, const std::optional<nodeinfo::Pressure>& p) {
  if (!p) return w.null();
  w.raw("{");
  w.key("some");
  write_pressure_stat(w, p->some);
  w.raw(",");
  w.key("full");
  if (p->full) {
    write_pressure_stat(w, *p->full);
  } else {
    w.null();
  }
  w.raw("}");
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
    std::size_t len = 0;
    std::uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, min = 0x10000;
    }
    bool valid = len != 0 && static_cast<std::size_t>(end - p) >= len;
    std::uint32_t cp = valid ? (c & (0x7f >> len)) : 0;
    for (std::size_t i = 1; valid && i < len; ++i) {
      if ((p[i] & 0xc0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (p[i] & 0x3f);
      }
    }
    if (valid && cp >= min && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff)) {
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
  out.reserve(1536 + s.per_cpu_seconds.size() * 200 + s.errors.size() * 96);
  Writer w(out);
  w.raw("{");
  w.key("node");
  w.string(s.node_name);
  w.raw(",");
  w.key("time");
  w.string(format_rfc3339(s.taken_at));
  w.raw(",");
  w.key("time_unix_seconds");
  w.number(static_cast<double>(unix_ms(s.taken_at)) / 1e3);
  w.raw(",");
  w.key("uptime_seconds");
  w.number(s.uptime_seconds);
  w.raw(",");
  w.key("boot_time");
  if (s.boot_time) {
    w.string(
        format_rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(*s.boot_time))));
  } else {
    w.null();
  }
  w.raw(",");
  w.key("boot_time_unix_seconds");
  w.number(s.boot_time);
  w.raw(",");

  w.key("load");
  if (s.load) {
    w.raw("{");
    w.key("1m");
    w.number(s.load->load1);
    w.raw(",");
    w.key("5m");
    w.number(s.load->load5);
    w.raw(",");
    w.key("15m");
    w.number(s.load->load15);
    w.raw("}");
  } else {
    w.null();
  }
  w.raw(",");
  w.key("threads");
  if (s.threads) {
    w.raw("{");
    w.key("running");
    w.number(s.threads->running);
    w.raw(",");
    w.key("total");
    w.number(s.threads->total);
    w.raw("}");
  } else {
    w.null();
  }
  w.raw(",");

  w.key("processes");
  if (s.procs_running && s.procs_blocked && s.forks && s.context_switches) {
    w.raw("{");
    w.key("running");
    w.number(*s.procs_running);
    w.raw(",");
    w.key("blocked");
    w.number(*s.procs_blocked);
    w.raw(",");
    w.key("forks_total");
    w.number(*s.forks);
    w.raw(",");
    w.key("context_switches_total");
    w.number(*s.context_switches);
    w.raw("}");
  } else {
    w.null();
  }
  w.raw(",");

  w.key("cpu");
  if (s.cpu_seconds && s.cpu_count) {
    w.raw("{");
    w.key("count");
    w.number(*s.cpu_count);
    w.raw(",");
    w.key("seconds");
    write_modes(w, *s.cpu_seconds);
    w.raw(",");
    w.key("utilisation");
    if (s.cpu_utilisation) {
      write_modes(w, *s.cpu_utilisation);
    } else {
      w.null();
    }
    w.raw(",");
    w.key("per_cpu");
    w.raw("[");
    for (std::size_t i = 0; i < s.per_cpu_seconds.size(); ++i) {
      if (i > 0) w.raw(",");
      w.raw("{");
      w.key("cpu");
      w.number(s.per_cpu_seconds[i].cpu);
      w.raw(",");
      w.key("seconds");
      write_modes(w, s.per_cpu_seconds[i].seconds);
      w.raw("}");
    }
    w.raw("]}");
  } else {
    w.null();
  }
  w.raw(",");

  w.key("memory");
  const nodeinfo::Memory& m = s.memory;
  if (m.total) {
    w.raw("{");
    w.key("total_bytes");
    w.number(m.total);
    w.raw(",");
    w.key("available_bytes");
    w.number(m.available);
    w.raw(",");
    w.key("used_bytes");
    w.number(m.used());
    w.raw(",");
    w.key("free_bytes");
    w.number(m.free);
    w.raw(",");
    w.key("buffers_bytes");
    w.number(m.buffers);
    w.raw(",");
    w.key("cached_bytes");
    w.number(m.cached);
    w.raw(",");
    w.key("swap_total_bytes");
    w.number(m.swap_total);
    w.raw(",");
    w.key("swap_free_bytes");
    w.number(m.swap_free);
    w.raw(",");
    w.key("swap_used_bytes");
    w.number(m.swap_used());
    w.raw("}");
  } else {
    w.null();
  }
  w.raw(",");

  w.key("pressure");
  w.raw("{");
  w.key("cpu");
  write_pressure(w, s.pressure.cpu);
  w.raw(",");
  w.key("memory");
  write_pressure(w, s.pressure.memory);
  w.raw(",");
  w.key("io");
  write_pressure(w, s.pressure.io);
  w.raw("},");

  w.key("numa_nodes");
  w.number(s.numa_nodes);
  w.raw(",");
  w.key("kernel_release");
  if (s.kernel_release) {
    w.string(*s.kernel_release);
  } else {
    w.null();
  }
  w.raw(",");
  w.key("errors");
  w.raw("[");
  for (std::size_t i = 0; i < s.errors.size(); ++i) {
    if (i > 0) w.raw(",");
    w.string(s.errors[i]);
  }
  w.raw("]}");
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
