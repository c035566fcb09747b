// <procfs>/1/net/dev: the interface counters of the host's network namespace (PID 1's), also when
// the agent runs in a pod network. Exported under node_exporter's node_network_*_total names,
// plus the NetDeviceReading summaries (with rates since the previous sample) for JSON and Kiada.
// Never <procfs>/net or self/net: those are the agent's own namespace.
#include "nodeinfo/sources/netdev.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <unordered_set>

#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"
#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

Error line_error(std::size_t line_no, const std::string& what) {
  return Error{Errc::kMalformed, "line " + std::to_string(line_no) + ": " + what};
}

// Device names become label values and JSON strings: only the characters kernels use.
bool valid_device_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNetDeviceNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
           c == '-';
  });
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// One interface line, except the name, which is returned in `name` (a view into the text).
Result<NetDevLine> parse_line(std::string_view line, std::size_t line_no, std::string_view& name) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return line_error(line_no, "expected \"<device>: <counters>\"");
  }
  name = trim_blanks(line.substr(0, colon));
  line.remove_prefix(colon + 1);
  NetDevLine out;
  for (std::size_t i = 0; i < kNetDevFields; ++i) {
    const std::string_view tok = next_field(line);
    if (tok.empty()) {
      return line_error(line_no, "expected " + std::to_string(kNetDevFields) + " counters, got " +
                                     std::to_string(i));
    }
    if (!to_u64(tok, out.stats[i])) return line_error(line_no, "bad counter " + quoted(tok));
  }
  return out;
}

}  // namespace

Result<NetDev> parse_netdev(std::string_view text) {
  if (text.empty()) return Error{Errc::kMalformed, "empty input"};
  if (text.back() != '\n') return Error{Errc::kMalformed, "truncated input (no trailing newline)"};
  std::string_view rest = text;
  for (std::size_t line_no = 1; line_no <= 2; ++line_no) {
    if (rest.empty() || next_line(rest).find('|') == std::string_view::npos) {
      return line_error(line_no, "expected a header line with '|'");
    }
  }
  NetDev out;
  std::unordered_set<std::string_view> seen;
  for (std::size_t line_no = 3; !rest.empty(); ++line_no) {
    std::string_view name;
    auto parsed = parse_line(next_line(rest), line_no, name);
    if (!parsed) return parsed.error();
    if (!valid_device_name(name) || !seen.insert(name).second) {
      ++out.skipped;
      continue;
    }
    if (out.devices.size() == kMaxNetDevices) {
      return line_error(line_no, "more than " + std::to_string(kMaxNetDevices) + " devices");
    }
    parsed->device.assign(name);
    out.devices.push_back(std::move(*parsed));
  }
  return out;
}

namespace {

struct NetFamily {
  std::string_view name;
  std::string_view help;
};

// One counter family per column, in column order (NetDevStat).
constexpr std::array<NetFamily, kNetDevFields> kFamilies = {{
    {"node_network_receive_bytes_total", "Bytes received."},
    {"node_network_receive_packets_total", "Packets received."},
    {"node_network_receive_errs_total", "Receive errors the driver counted."},
    {"node_network_receive_drop_total", "Received packets dropped (incl. missed)."},
    {"node_network_receive_fifo_total", "Receive FIFO overruns."},
    {"node_network_receive_frame_total", "Receive framing, length and CRC errors."},
    {"node_network_receive_compressed_total", "Compressed packets received."},
    {"node_network_receive_multicast_total", "Multicast packets received."},
    {"node_network_transmit_bytes_total", "Bytes sent."},
    {"node_network_transmit_packets_total", "Packets sent."},
    {"node_network_transmit_errs_total", "Transmit errors the driver counted."},
    {"node_network_transmit_drop_total", "Packets dropped before sending."},
    {"node_network_transmit_fifo_total", "Transmit FIFO underruns."},
    {"node_network_transmit_colls_total", "Collisions while sending."},
    {"node_network_transmit_carrier_total", "Carrier, aborted, heartbeat and window errors."},
    {"node_network_transmit_compressed_total", "Compressed packets sent."},
}};

// Per second from two readings of a counter; none when it went backwards or no time passed.
std::optional<double> rate(std::uint64_t before, std::uint64_t now, double seconds) {
  if (seconds <= 0 || now < before) return std::nullopt;
  return static_cast<double>(now - before) / seconds;
}

Result<std::regex> compile_exclude(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript | std::regex::nosubs);
  } catch (const std::regex_error& e) {
    return Error{Errc::kMalformed, "bad device exclude regex \"" + pattern + "\": " + e.what()};
  }
}

// PID 1 hidden (hidepid) or missing (a procfs of another PID namespace).
bool host_view_missing(const boost::system::error_code& ec) {
  return ec == boost::system::errc::no_such_file_or_directory ||
         ec == boost::system::errc::permission_denied ||
         ec == boost::system::errc::operation_not_permitted;
}

class NetdevSource final : public Source {
 public:
  NetdevSource(const SourceOptions& o, std::regex exclude)
      : file_(o.fs.procfs, "1/net/dev", /*whole_records=*/true), exclude_(std::move(exclude)) {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (auto got = file_.read(ctx.buf); !got) {
      const boost::system::error_code ec = got.error().code;
      std::string why = ec.message();
      if (host_view_missing(ec)) why += " (needs the host's procfs without hidepid)";
      return s.errors.push_back(file_.reason(why));
    }
    auto parsed = parse_netdev(ctx.buf);
    if (!parsed) return s.errors.push_back(file_.reason(parsed.error().message()));
    if (parsed->skipped > 0) {  // left out, so say so: the rest is served
      s.errors.push_back(
          file_.reason(std::to_string(parsed->skipped) +
                       " lines left out (a name that cannot be a label, or repeated)"));
    }
    if (!same_names(parsed->devices)) rebuild(parsed->devices);
    add_readings(s, parsed->devices, ctx.steady);
    add_families(s.families, parsed->devices);
  }

 private:
  struct Counters {
    std::uint64_t receive_bytes = 0;
    std::uint64_t transmit_bytes = 0;
  };

  // An interface that is not excluded, in device name order (labels_ holds its label block).
  struct Kept {
    std::size_t line = 0;  // index into the parsed devices
    std::string device;
    std::optional<Counters> previous;
  };

  bool same_names(const std::vector<NetDevLine>& lines) const {
    return std::equal(lines.begin(), lines.end(), names_.begin(), names_.end(),
                      [](const NetDevLine& l, const std::string& n) { return l.device == n; });
  }

  // Runs the exclude regex and builds the label blocks: only when the interface names change.
  void rebuild(const std::vector<NetDevLine>& lines) {
    std::vector<Kept> old = std::move(kept_);
    kept_.clear();
    names_.clear();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const NetDevLine& l = lines[i];
      names_.push_back(l.device);
      if (std::regex_search(l.device, exclude_)) continue;
      kept_.push_back(Kept{i, l.device, previous_of(old, l.device)});
    }
    std::sort(kept_.begin(), kept_.end(),
              [](const Kept& a, const Kept& b) { return a.device < b.device; });
    std::vector<std::string> labels;
    labels.reserve(kept_.size());
    for (const Kept& k : kept_) labels.push_back(metrics::labels({{"device", k.device}}));
    labels_ = metrics::LabelBlocks(std::move(labels));
  }

  static std::optional<Counters> previous_of(const std::vector<Kept>& old,
                                             std::string_view device) {
    auto it = std::lower_bound(old.begin(), old.end(), device,
                               [](const Kept& k, std::string_view d) { return k.device < d; });
    if (it == old.end() || it->device != device) return std::nullopt;
    return it->previous;
  }

  void add_readings(Snapshot& s, const std::vector<NetDevLine>& lines,
                    std::chrono::steady_clock::time_point now) {
    const double elapsed =
        previous_time_ ? std::chrono::duration<double>(now - *previous_time_).count() : 0;
    s.net_devices.reserve(kept_.size());
    for (Kept& k : kept_) {
      const NetDevLine& l = lines[k.line];
      NetDeviceReading r;
      r.device = k.device;
      r.receive_bytes = l[NetDevStat::kReceiveBytes];
      r.transmit_bytes = l[NetDevStat::kTransmitBytes];
      r.receive_packets = l[NetDevStat::kReceivePackets];
      r.transmit_packets = l[NetDevStat::kTransmitPackets];
      r.receive_errs = l[NetDevStat::kReceiveErrs];
      r.transmit_errs = l[NetDevStat::kTransmitErrs];
      r.receive_drop = l[NetDevStat::kReceiveDrop];
      r.transmit_drop = l[NetDevStat::kTransmitDrop];
      if (k.previous) {
        r.receive_bytes_per_second = rate(k.previous->receive_bytes, r.receive_bytes, elapsed);
        r.transmit_bytes_per_second = rate(k.previous->transmit_bytes, r.transmit_bytes, elapsed);
      }
      k.previous = Counters{r.receive_bytes, r.transmit_bytes};
      s.net_devices.push_back(std::move(r));
    }
    previous_time_ = now;
  }

  void add_families(metrics::FamilySet& f, const std::vector<NetDevLine>& lines) const {
    if (kept_.empty()) return;
    for (std::size_t c = 0; c < kNetDevFields; ++c) {
      auto& family = f.add(metrics::Text::unowned(kFamilies[c].name),
                           metrics::Text::unowned(kFamilies[c].help), metrics::Type::kCounter);
      family.series.reserve(kept_.size());
      for (std::size_t j = 0; j < kept_.size(); ++j) {
        labels_.add(family, j, lines[kept_[j].line].stats[c]);
      }
    }
  }

  KeptFile file_;
  std::regex exclude_;
  std::vector<std::string> names_;  // every interface of the last file, in file order
  std::vector<Kept> kept_;
  metrics::LabelBlocks labels_;  // device="...", per kept_ entry
  std::optional<std::chrono::steady_clock::time_point> previous_time_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_netdev_source(const SourceOptions& o) {
  auto exclude = compile_exclude(o.netdev_device_exclude);
  if (!exclude) return exclude.error();
  return std::make_unique<NetdevSource>(o, std::move(*exclude));
}

}  // namespace nodeagent::nodeinfo
