// <procfs>/1/net/dev: the interface counters of the host's network namespace (PID 1's), also when
// the agent runs in a pod network. Exported under node_exporter's node_network_*_total names,
// plus the NetDeviceReading summaries (with rates since the previous sample) for JSON and Kiada.
// Never <procfs>/net or self/net: those are the agent's own namespace.
#include "nodeinfo/sources/netdev.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <unordered_set>

#include "nodeinfo/device_set.h"
#include "nodeinfo/parsers.h"
#include "nodeinfo/source.h"
#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

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

// PID 1 hidden (hidepid) or missing (a procfs of another PID namespace).
bool host_view_missing(const boost::system::error_code& ec) {
  return ec == boost::system::errc::no_such_file_or_directory ||
         ec == boost::system::errc::permission_denied ||
         ec == boost::system::errc::operation_not_permitted;
}

class NetdevSource final : public Source {
 public:
  NetdevSource(const SourceOptions& o, std::regex exclude)
      : file_(o.fs.procfs, "1/net/dev", /*whole_records=*/true), devices_(std::move(exclude)) {}

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
    if (parsed->skipped > 0) s.errors.push_back(file_.reason(left_out_reason(parsed->skipped)));
    devices_.update(parsed->devices);
    add_readings(s, parsed->devices, ctx.steady);
    add_families(s.families, parsed->devices);
  }

 private:
  struct Counters {
    std::uint64_t receive_bytes = 0;
    std::uint64_t transmit_bytes = 0;
  };

  void add_readings(Snapshot& s, const std::vector<NetDevLine>& lines,
                    std::chrono::steady_clock::time_point now) {
    const double elapsed = devices_.elapsed(now);
    s.net_devices.reserve(devices_.kept().size());
    for (auto& k : devices_.kept()) {
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
  }

  void add_families(metrics::FamilySet& f, const std::vector<NetDevLine>& lines) const {
    const auto& kept = devices_.kept();
    if (kept.empty()) return;
    for (std::size_t c = 0; c < kNetDevFields; ++c) {
      auto& family = f.add(metrics::Text::unowned(kFamilies[c].name),
                           metrics::Text::unowned(kFamilies[c].help), metrics::Type::kCounter);
      family.series.reserve(kept.size());
      for (std::size_t j = 0; j < kept.size(); ++j) {
        devices_.labels().add(family, j, lines[kept[j].line].stats[c]);
      }
    }
  }

  KeptFile file_;
  DeviceSet<Counters> devices_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_netdev_source(const SourceOptions& o) {
  auto exclude = compile_regex("netdev device exclude", o.netdev_device_exclude);
  if (!exclude) return exclude.error();
  return std::make_unique<NetdevSource>(o, std::move(*exclude));
}

}  // namespace nodeagent::nodeinfo
