// Connection tracking: node_nf_conntrack_entries and the node_nf_conntrack_stat_* sums from
// <procfs>/1/net/stat/nf_conntrack, node_nf_conntrack_entries_limit from
// <procfs>/sys/net/netfilter/nf_conntrack_max. The table is per network namespace: PID 1's net/
// is the host's even when the agent runs in a pod network (<procfs>/net is the reader's own
// netns, so it is never read). Without the nf_conntrack module neither file exists: that is no
// error, the families are just absent.
#include "nodeinfo/sources/conntrack.h"

#include <string>

#include "nodeinfo/source.h"
#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

Result<void> check_complete(std::string_view text) {
  if (text.empty()) return malformed("empty input");
  if (text.back() != '\n') return malformed("truncated input (no trailing newline)");
  return {};
}

// The kernel prints each counter as %08x of a 32-bit value: 1..8 lower-case hex digits.
bool to_hex32(std::string_view tok, std::uint64_t& out) {
  if (tok.empty() || tok.size() > 8) return false;
  out = 0;
  for (char c : tok) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else {
      return false;
    }
    out = out * 16 + digit;
  }
  return true;
}

// What each column of the header is: "entries", one of kConntrackStatColumns, or ignored.
constexpr std::size_t kIgnored = static_cast<std::size_t>(-1);
constexpr std::size_t kEntries = static_cast<std::size_t>(-2);

struct Header {
  std::vector<std::size_t> roles;  // per column
};

Result<Header> parse_header(std::string_view line) {
  Header h;
  bool has_entries = false;
  std::array<bool, kConntrackStatColumns.size()> seen{};
  for (std::string_view name = next_field(line); !name.empty(); name = next_field(line)) {
    if (h.roles.size() == kMaxConntrackColumns) {
      return line_error(1, "more than " + std::to_string(kMaxConntrackColumns) + " columns");
    }
    std::size_t role = kIgnored;
    if (name == "entries") {
      if (has_entries) return line_error(1, "duplicate column \"entries\"");
      has_entries = true;
      role = kEntries;
    }
    for (std::size_t i = 0; i < kConntrackStatColumns.size(); ++i) {
      if (name != kConntrackStatColumns[i]) continue;
      if (seen[i]) return line_error(1, "duplicate column " + quoted(name));
      seen[i] = true;
      role = i;
    }
    h.roles.push_back(role);
  }
  if (!has_entries) return line_error(1, "no \"entries\" column");
  return h;
}

}  // namespace

Result<ConntrackStat> parse_conntrack_stat(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  std::string_view rest = text;
  auto header = parse_header(next_line(rest));
  if (!header) return header.error();
  ConntrackStat out;
  for (std::size_t i = 0; i < kConntrackStatColumns.size(); ++i) {
    for (std::size_t role : header->roles) {
      if (role == i) out.stats[i] = 0;
    }
  }
  for (std::size_t line_no = 2; !rest.empty(); ++line_no) {
    if (out.cpu_lines == kMaxConntrackCpuLines) {
      return malformed("more than " + std::to_string(kMaxConntrackCpuLines) + " cpu lines");
    }
    std::string_view line = next_line(rest);
    for (std::size_t role : header->roles) {
      const std::string_view field = next_field(line);
      if (field.empty()) {
        return line_error(line_no, "expected " + std::to_string(header->roles.size()) + " columns");
      }
      std::uint64_t v = 0;
      if (!to_hex32(field, v)) return line_error(line_no, "bad counter " + quoted(field));
      if (role == kEntries) {
        if (out.cpu_lines == 0) out.entries = v;
      } else if (role != kIgnored) {
        *out.stats[role] += v;  // at most 8192 lines of 32-bit values: no overflow
      }
    }
    if (!only_blanks(line)) {
      return line_error(line_no, "more than " + std::to_string(header->roles.size()) + " columns");
    }
    ++out.cpu_lines;
  }
  if (out.cpu_lines == 0) return malformed("no cpu lines");
  return out;
}

Result<std::uint64_t> parse_conntrack_max(std::string_view text) {
  if (auto complete = check_complete(text); !complete) return complete.error();
  std::string_view rest = text;
  std::string_view line = next_line(rest);
  if (!rest.empty()) return malformed("expected one line");
  const std::string_view field = next_field(line);
  std::uint64_t n = 0;
  if (!to_u64(field, n) || !only_blanks(line)) return malformed("bad limit " + quoted(field));
  return n;
}

namespace {

class ConntrackSource final : public Source {
 public:
  explicit ConntrackSource(const SourceOptions& o)
      : stat_(o.fs.procfs, "1/net/stat/nf_conntrack", /*whole_records=*/true),
        max_(o.fs.procfs, "sys/net/netfilter/nf_conntrack_max") {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    std::optional<std::uint64_t> limit;
    const bool loaded = read_present(max_, ctx, "");
    if (loaded) {
      auto parsed = parse_conntrack_max(ctx.buf);
      if (parsed) {
        limit = *parsed;
      } else {
        s.errors.push_back(max_.reason(parsed.error().message()));
      }
    }
    std::optional<ConntrackStat> stat;
    // With the module loaded (nf_conntrack_max exists), a missing PID 1 file means the host's
    // procfs hides other users' processes (hidepid=2 makes /proc/1 vanish): say so.
    if (read_present(stat_, ctx, kHidepidHint, loaded)) {
      auto parsed = parse_conntrack_stat(ctx.buf);
      if (parsed) {
        stat = *parsed;
      } else {
        s.errors.push_back(stat_.reason(parsed.error().message()));
      }
    }
    if (stat) {
      s.families.gauge("node_nf_conntrack_entries",
                       "Connections in the host's conntrack table (net/stat/nf_conntrack).",
                       std::optional(stat->entries));
    }
    s.families.gauge("node_nf_conntrack_entries_limit",
                     "Size of the conntrack table (nf_conntrack_max).", limit);
    if (stat) add_stats(*stat, s.families);
  }

 private:
  static constexpr std::string_view kHidepidHint = " (needs the host's procfs without hidepid)";

  // Reads `file` into ctx.buf; false without an error when it does not exist (no nf_conntrack
  // module) unless `must_exist`, false with a reason (plus `hint` for a permission error, or a
  // missing file that must exist) when it cannot be read.
  static bool read_present(KeptFile& file, SampleContext& ctx, std::string_view hint,
                           bool must_exist = false) {
    auto r = file.read(ctx.buf);
    if (r) return true;
    const boost::system::error_code& code = r.error().code;
    const bool missing = code == boost::system::errc::no_such_file_or_directory;
    if (missing && !must_exist) return false;
    std::string what = code.message();
    if (missing || code == boost::system::errc::permission_denied) what += hint;
    ctx.snap.errors.push_back(file.reason(what));
    return false;
  }

  // node_exporter 1.5 exports these per-cpu event counts as gauges; so do we, for its dashboards.
  static void add_stats(const ConntrackStat& stat, metrics::FamilySet& families) {
    static const auto kNames = stat_names();
    for (std::size_t i = 0; i < kConntrackStatColumns.size(); ++i) {
      if (!stat.stats[i]) continue;  // not a column of this kernel
      families.gauge(kNames[i].first, kNames[i].second, stat.stats[i]);
    }
  }

  // Name and help per column, made once.
  using StatNames =
      std::array<std::pair<metrics::Text, metrics::Text>, kConntrackStatColumns.size()>;
  static StatNames stat_names() {
    StatNames out;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::string column(kConntrackStatColumns[i]);
      out[i] = {"node_nf_conntrack_stat_" + column,
                "Conntrack " + column + " events, summed over cpus (net/stat/nf_conntrack)."};
    }
    return out;
  }

  KeptFile stat_;
  KeptFile max_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_conntrack_source(const SourceOptions& o) {
  return std::make_unique<ConntrackSource>(o);
}

}  // namespace nodeagent::nodeinfo
