#include "nodeinfo/parsers.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>

#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

// The kernel terminates every line; without the final newline the read was cut short.
Result<void> check_complete(std::string_view text) {
  if (text.empty()) return malformed("empty input");
  if (text.back() != '\n') return malformed("truncated input (no trailing newline)");
  return {};
}

// Non-negative decimal as the kernel prints it ("1.62", "829.50"): digits with at most one dot.
bool to_decimal(std::string_view tok, double& out) {
  if (tok.empty() || tok.front() == '.' || tok.back() == '.') return false;
  int dots = 0;
  for (char c : tok) {
    if (c == '.') {
      if (++dots > 1) return false;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  const auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), out);
  return ec == std::errc() && ptr == tok.data() + tok.size() && std::isfinite(out);
}

}  // namespace

std::string_view cpu_mode_name(CpuMode mode) {
  switch (mode) {
    case CpuMode::kUser:
      return "user";
    case CpuMode::kNice:
      return "nice";
    case CpuMode::kSystem:
      return "system";
    case CpuMode::kIdle:
      return "idle";
    case CpuMode::kIowait:
      return "iowait";
    case CpuMode::kIrq:
      return "irq";
    case CpuMode::kSoftirq:
      return "softirq";
    case CpuMode::kSteal:
      return "steal";
    case CpuMode::kGuest:
      return "guest";
    case CpuMode::kGuestNice:
      return "guest_nice";
  }
  return "unknown";
}

Result<Uptime> parse_uptime(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  std::string_view rest = text;
  std::string_view line = next_line(rest);
  if (!rest.empty()) return malformed("expected one line");
  Uptime out;
  const std::string_view up = next_field(line);
  const std::string_view idle = next_field(line);
  if (idle.empty() || !only_blanks(line)) return malformed("expected 2 fields: <uptime> <idle>");
  if (!to_decimal(up, out.uptime_seconds)) return malformed("bad uptime " + quoted(up));
  if (!to_decimal(idle, out.idle_seconds)) return malformed("bad idle time " + quoted(idle));
  return out;
}

Result<LoadAvg> parse_loadavg(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  std::string_view rest = text;
  std::string_view line = next_line(rest);
  if (!rest.empty()) return malformed("expected one line");
  std::array<std::string_view, 5> f;
  for (auto& field : f) field = next_field(line);
  if (f[4].empty() || !only_blanks(line)) {
    return malformed("expected 5 fields: <load1> <load5> <load15> <running>/<total> <last_pid>");
  }
  LoadAvg out;
  if (!to_decimal(f[0], out.load1)) return malformed("bad load1 " + quoted(f[0]));
  if (!to_decimal(f[1], out.load5)) return malformed("bad load5 " + quoted(f[1]));
  if (!to_decimal(f[2], out.load15)) return malformed("bad load15 " + quoted(f[2]));
  const std::size_t slash = f[3].find('/');
  if (slash == std::string_view::npos || !to_u64(f[3].substr(0, slash), out.threads_running) ||
      !to_u64(f[3].substr(slash + 1), out.threads_total)) {
    return malformed("bad running/total threads " + quoted(f[3]));
  }
  if (!to_u64(f[4], out.last_pid)) return malformed("bad last pid " + quoted(f[4]));
  return out;
}

Result<ProcStat> parse_stat(std::string_view text, long clk_tck) {
  if (clk_tck <= 0) return malformed("clock ticks per second must be positive");
  if (auto complete = check_complete(text); !complete) return complete.error();
  // Divide rather than multiply by 1/clk_tck: the quotient is the double nearest to the exact
  // value, so 174509 ticks print as 1745.09, not 1745.0900000000001.
  const auto hz = static_cast<double>(clk_tck);
  ProcStat out;
  bool have_total = false;
  // Bit per required scalar key: btime, ctxt, processes, procs_running, procs_blocked.
  unsigned seen = 0;
  constexpr unsigned kAllScalars = 0x1f;
  std::string_view rest = text;
  for (std::size_t line_no = 1; !rest.empty(); ++line_no) {
    std::string_view line = next_line(rest);
    const std::string_view key = next_field(line);
    if (key.size() >= 3 && key.substr(0, 3) == "cpu") {
      const std::string_view index = key.substr(3);
      std::uint64_t cpu = 0;
      const bool aggregate = index.empty();
      if (!aggregate && (!to_u64(index, cpu) || cpu > std::numeric_limits<unsigned>::max())) {
        return line_error(line_no, "bad cpu line key " + quoted(key));
      }
      CpuTimes times;
      for (std::size_t m = 0; m < kCpuModeCount; ++m) {
        const std::string_view tok = next_field(line);
        if (tok.empty()) {
          return line_error(line_no, "expected 10 cpu time fields, got " + std::to_string(m));
        }
        if (!to_u64(tok, times.jiffies[m])) {
          return line_error(line_no, "bad cpu time " + quoted(tok));
        }
        times.seconds[m] = static_cast<double>(times.jiffies[m]) / hz;
      }
      // Columns a future kernel appends are ignored.
      if (aggregate) {
        if (have_total) return line_error(line_no, "duplicate aggregate cpu line");
        have_total = true;
        out.total = times;
      } else {
        const auto c = static_cast<unsigned>(cpu);
        if (!out.cpus.empty() && out.cpus.back().cpu >= c) {
          return line_error(line_no, "cpu lines out of order or duplicated at " + quoted(key));
        }
        out.cpus.push_back(PerCpuTimes{c, times});
      }
      continue;
    }
    std::uint64_t* target = nullptr;
    unsigned bit = 0;
    if (key == "btime") {
      target = &out.boot_time, bit = 1;
    } else if (key == "ctxt") {
      target = &out.context_switches, bit = 2;
    } else if (key == "processes") {
      target = &out.forks, bit = 4;
    } else if (key == "procs_running") {
      target = &out.procs_running, bit = 8;
    } else if (key == "procs_blocked") {
      target = &out.procs_blocked, bit = 16;
    } else if (key == "intr") {
      // "intr <total> <per-irq counts...>": only the total is kept.
      const std::string_view tok = next_field(line);
      std::uint64_t total = 0;
      if (!to_u64(tok, total)) return line_error(line_no, "bad value for intr");
      if (out.interrupts) return line_error(line_no, "duplicate intr");
      out.interrupts = total;
      continue;
    } else if (key.empty()) {
      return line_error(line_no, "empty line");
    } else {
      continue;  // softirq and keys we do not use
    }
    const std::string_view tok = next_field(line);
    if (!to_u64(tok, *target) || !only_blanks(line)) {
      return line_error(line_no, "bad value for " + std::string(key));
    }
    if ((seen & bit) != 0) return line_error(line_no, "duplicate " + std::string(key));
    seen |= bit;
  }
  if (!have_total) return malformed("missing aggregate cpu line");
  if (seen != kAllScalars) {
    static constexpr std::array<std::string_view, 5> kNames = {"btime", "ctxt", "processes",
                                                               "procs_running", "procs_blocked"};
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      if ((seen & (1u << i)) == 0) return malformed("missing " + std::string(kNames[i]));
    }
  }
  return out;
}

namespace {

// A key that can become part of a metric name: letters, digits and '_', with at most one
// "(...)" part as in "Active(anon)". Anything else (a hostile file) is left out.
bool valid_meminfo_key(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  int parens = 0;
  for (char c : key) {
    if (c == '(') {
      if (parens != 0) return false;
      parens = 1;
    } else if (c == ')') {
      if (parens != 1) return false;
      parens = 2;
    } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_')) {  // ASCII only, whatever the locale
      return false;
    }
  }
  return parens != 1 && key.front() != '(' && !(key.front() >= '0' && key.front() <= '9');
}

}  // namespace

Result<MemInfo> parse_meminfo(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  struct Field {
    std::string_view name;
    std::optional<std::uint64_t> MemInfo::*member;
  };
  static constexpr std::array<Field, 10> kFields = {{
      {"MemTotal", &MemInfo::mem_total},
      {"MemFree", &MemInfo::mem_free},
      {"MemAvailable", &MemInfo::mem_available},
      {"Buffers", &MemInfo::buffers},
      {"Cached", &MemInfo::cached},
      {"SwapCached", &MemInfo::swap_cached},
      {"SwapTotal", &MemInfo::swap_total},
      {"SwapFree", &MemInfo::swap_free},
      {"Shmem", &MemInfo::shmem},
      {"SReclaimable", &MemInfo::s_reclaimable},
  }};
  MemInfo out;
  out.lines.reserve(64);  // a kernel prints about 55
  std::size_t found = 0;  // of kFields
  std::string_view rest = text;
  for (std::size_t line_no = 1; !rest.empty(); ++line_no) {
    std::string_view line = next_line(rest);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return line_error(line_no, "expected \"<key>: <value> [kB]\"");
    }
    const std::string_view key = line.substr(0, colon);
    line.remove_prefix(colon + 1);
    const std::string_view value = next_field(line);
    const std::string_view unit = next_field(line);
    std::uint64_t n = 0;
    if (!to_u64(value, n)) return line_error(line_no, "bad value " + quoted(value));
    if (!only_blanks(line) || (!unit.empty() && unit != "kB")) {
      return line_error(line_no, "unexpected text after value of " + quoted(key));
    }
    if (valid_meminfo_key(key)) {
      if (out.lines.size() == kMaxMeminfoLines) {
        return line_error(line_no, "more than " + std::to_string(kMaxMeminfoLines) + " fields");
      }
      if (unit == "kB" && n > std::numeric_limits<std::uint64_t>::max() / 1024) {
        return line_error(line_no, "value of " + quoted(key) + " overflows");
      }
      out.lines.push_back(MemInfoLine{std::string(key), unit == "kB" ? n * 1024 : n, unit == "kB"});
    }
    // The kernel prints these first: once all are seen, the other lines need no lookup.
    for (std::size_t i = 0; found < kFields.size() && i < kFields.size(); ++i) {
      const Field& f = kFields[i];
      if (f.name != key) continue;
      // Every field we keep is a size in KiB; a unitless one would be a count, not bytes.
      if (unit != "kB") return line_error(line_no, quoted(key) + " has no kB unit");
      if (n > std::numeric_limits<std::uint64_t>::max() / 1024) {
        return line_error(line_no, "value of " + quoted(key) + " overflows");
      }
      if (out.*f.member) return line_error(line_no, "duplicate " + quoted(key));
      out.*f.member = n * 1024;
      ++found;
      break;
    }
  }
  if (!out.mem_total) return malformed("missing MemTotal");
  if (!out.mem_free) return malformed("missing MemFree");
  // A repeated key would make two families of one name. Sorting finds one in n log n; a scan
  // per line was a third of the parse.
  std::vector<std::string_view> keys;
  keys.reserve(out.lines.size());
  for (const MemInfoLine& l : out.lines) keys.emplace_back(l.key);
  std::sort(keys.begin(), keys.end());
  if (auto dup = std::adjacent_find(keys.begin(), keys.end()); dup != keys.end()) {
    return malformed("duplicate " + quoted(*dup));
  }
  return out;
}

namespace {

Result<PressureStat> parse_pressure_line(std::string_view line, std::size_t line_no) {
  static constexpr std::array<std::string_view, 4> kKeys = {
      "avg10=", "avg60=", "avg300=", "total="};
  PressureStat out;
  std::array<double*, 3> avgs = {&out.avg10, &out.avg60, &out.avg300};
  for (std::size_t i = 0; i < kKeys.size(); ++i) {
    std::string_view tok = next_field(line);
    if (tok.substr(0, kKeys[i].size()) != kKeys[i]) {
      return line_error(line_no, "expected " + std::string(kKeys[i]) + ", got " + quoted(tok));
    }
    tok.remove_prefix(kKeys[i].size());
    const bool ok = i < 3 ? to_decimal(tok, *avgs[i]) : to_u64(tok, out.total_us);
    if (!ok) return line_error(line_no, "bad number " + quoted(tok));
  }
  if (!only_blanks(line)) return line_error(line_no, "unexpected trailing text");
  return out;
}

}  // namespace

Result<Pressure> parse_pressure(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  Pressure out;
  std::string_view rest = text;
  std::string_view line = next_line(rest);
  if (next_field(line) != "some") return line_error(1, "expected \"some\"");
  auto some = parse_pressure_line(line, 1);
  if (!some) return some.error();
  out.some = *some;
  if (rest.empty()) return out;
  line = next_line(rest);
  if (next_field(line) != "full") return line_error(2, "expected \"full\"");
  auto full = parse_pressure_line(line, 2);
  if (!full) return full.error();
  out.full = *full;
  if (!rest.empty()) return line_error(3, "unexpected extra line");
  return out;
}

Result<std::string> parse_osrelease(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) return malformed("empty release");
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return malformed("unexpected character in release " + quoted(text));
  }
  return Result<std::string>(boost::system::in_place_value, std::string(text));
}

Result<std::uint32_t> parse_index_list(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  text.remove_suffix(1);
  // Indexes are small (the kernel's NR_CPUS is at most 8192); this bound keeps the count exact.
  constexpr std::uint64_t kMaxIndex = 1u << 20;
  std::uint64_t count = 0;
  std::optional<std::uint64_t> last;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    if (item.empty() || (comma != std::string_view::npos && text.empty())) {
      return malformed("empty item in index list");
    }
    const std::size_t dash = item.find('-');
    std::uint64_t first = 0;
    std::uint64_t end = 0;
    if (!to_u64(item.substr(0, dash), first) ||
        !to_u64(dash == std::string_view::npos ? item : item.substr(dash + 1), end) ||
        first > end || end > kMaxIndex) {
      return malformed("bad item " + quoted(item) + " in index list");
    }
    if (last && first <= *last) return malformed("index list not ascending at " + quoted(item));
    count += end - first + 1;
    last = end;
  }
  return static_cast<std::uint32_t>(count);
}

}  // namespace nodeagent::nodeinfo
