// /proc/diskstats: the block layer's I/O counters per device, exported under node_exporter 1.5's
// node_disk_* names, plus the DiskReading summaries (with rates since the previous sample) for
// JSON and Kiada. Devices matching --collector.diskstats.device-exclude (partitions, loop and ram
// devices by default) are left out of both.
#include "nodeinfo/sources/diskstats.h"

#include <algorithm>
#include <cctype>
#include <limits>
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
  if (name.empty() || name.size() > kMaxDiskNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
           c == '-';
  });
}

bool to_u32(std::string_view tok, std::uint32_t& out) {
  std::uint64_t v = 0;
  if (!to_u64(tok, v) || v > std::numeric_limits<std::uint32_t>::max()) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

// One line, except the device name, which is returned in `name` (a view into the text).
Result<DiskStatsLine> parse_line(std::string_view line, std::size_t line_no,
                                 std::string_view& name) {
  DiskStatsLine out;
  const std::string_view major = next_field(line);
  const std::string_view minor = next_field(line);
  name = next_field(line);
  if (name.empty()) return line_error(line_no, "expected <major> <minor> <name> <stats>...");
  if (!to_u32(major, out.major)) return line_error(line_no, "bad major " + quoted(major));
  if (!to_u32(minor, out.minor)) return line_error(line_no, "bad minor " + quoted(minor));
  std::size_t count = 0;
  for (std::string_view tok = next_field(line); !tok.empty(); tok = next_field(line), ++count) {
    std::uint64_t v = 0;
    if (!to_u64(tok, v)) return line_error(line_no, "bad counter " + quoted(tok));
    if (count < kDiskStatFields) out.stats[count] = v;
  }
  if (count < kMinDiskStatFields) {
    return line_error(line_no, "expected at least " + std::to_string(kMinDiskStatFields) +
                                   " stat fields, got " + std::to_string(count));
  }
  out.fields = std::min(count, kDiskStatFields);
  return out;
}

}  // namespace

Result<DiskStats> parse_diskstats(std::string_view text) {
  DiskStats out;
  if (text.empty()) return out;
  if (text.back() != '\n') return Error{Errc::kMalformed, "truncated input (no trailing newline)"};
  std::unordered_set<std::string_view> seen;
  std::string_view rest = text;
  for (std::size_t line_no = 1; !rest.empty(); ++line_no) {
    std::string_view name;
    auto parsed = parse_line(next_line(rest), line_no, name);
    if (!parsed) return parsed.error();
    if (!valid_device_name(name) || !seen.insert(name).second) {
      ++out.skipped;
      continue;
    }
    if (out.devices.size() == kMaxDisks) {
      return line_error(line_no, "more than " + std::to_string(kMaxDisks) + " devices");
    }
    parsed->device.assign(name);
    out.devices.push_back(std::move(*parsed));
  }
  return out;
}

namespace {

enum class Unit : std::uint8_t { kCount, kSectorsAsBytes, kMsAsSeconds };

struct DiskFamily {
  std::string_view name;
  std::string_view help;
  metrics::Type type;
  Unit unit;
};

// One family per stat column, in column order (DiskStat).
constexpr std::array<DiskFamily, kDiskStatFields> kFamilies = {{
    {"node_disk_reads_completed_total", "Reads completed.", metrics::Type::kCounter, Unit::kCount},
    {"node_disk_reads_merged_total", "Reads merged with an adjacent one.", metrics::Type::kCounter,
     Unit::kCount},
    {"node_disk_read_bytes_total", "Bytes read.", metrics::Type::kCounter, Unit::kSectorsAsBytes},
    {"node_disk_read_time_seconds_total", "Seconds spent by all reads.", metrics::Type::kCounter,
     Unit::kMsAsSeconds},
    {"node_disk_writes_completed_total", "Writes completed.", metrics::Type::kCounter,
     Unit::kCount},
    {"node_disk_writes_merged_total", "Writes merged with an adjacent one.",
     metrics::Type::kCounter, Unit::kCount},
    {"node_disk_written_bytes_total", "Bytes written.", metrics::Type::kCounter,
     Unit::kSectorsAsBytes},
    {"node_disk_write_time_seconds_total", "Seconds spent by all writes.", metrics::Type::kCounter,
     Unit::kMsAsSeconds},
    {"node_disk_io_now", "I/Os in flight.", metrics::Type::kGauge, Unit::kCount},
    {"node_disk_io_time_seconds_total", "Seconds the device had I/O in flight.",
     metrics::Type::kCounter, Unit::kMsAsSeconds},
    {"node_disk_io_time_weighted_seconds_total",
     "Seconds of I/O in flight, weighted by the number of I/Os in flight.", metrics::Type::kCounter,
     Unit::kMsAsSeconds},
    {"node_disk_discards_completed_total", "Discards completed.", metrics::Type::kCounter,
     Unit::kCount},
    {"node_disk_discards_merged_total", "Discards merged with an adjacent one.",
     metrics::Type::kCounter, Unit::kCount},
    {"node_disk_discarded_sectors_total", "Sectors (512 bytes) discarded.", metrics::Type::kCounter,
     Unit::kCount},
    {"node_disk_discard_time_seconds_total", "Seconds spent by all discards.",
     metrics::Type::kCounter, Unit::kMsAsSeconds},
    {"node_disk_flush_requests_total", "Flush requests completed.", metrics::Type::kCounter,
     Unit::kCount},
    {"node_disk_flush_requests_time_seconds_total", "Seconds spent by all flush requests.",
     metrics::Type::kCounter, Unit::kMsAsSeconds},
}};

constexpr std::uint64_t kSectorBytes = 512;

// Exact while it fits 64 bits; a hostile counter beyond that is printed as a double.
metrics::Value sectors_as_bytes(std::uint64_t sectors) {
  if (sectors <= std::numeric_limits<std::uint64_t>::max() / kSectorBytes) {
    return sectors * kSectorBytes;
  }
  return static_cast<double>(sectors) * kSectorBytes;
}

// For JSON, whose integers are 64-bit: saturates instead of wrapping.
std::uint64_t saturated_bytes(std::uint64_t sectors) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  return sectors <= kMax / kSectorBytes ? sectors * kSectorBytes : kMax;
}

metrics::Value in_unit(Unit unit, std::uint64_t v) {
  switch (unit) {
    case Unit::kSectorsAsBytes:
      return sectors_as_bytes(v);
    case Unit::kMsAsSeconds:
      return static_cast<double>(v) / 1000;
    case Unit::kCount:
      break;
  }
  return v;
}

class DiskstatsSource final : public Source {
 public:
  DiskstatsSource(const SourceOptions& o, std::regex exclude)
      : file_(o.fs.procfs, "diskstats", /*whole_records=*/true), devices_(std::move(exclude)) {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!file_.read(ctx.buf, s.errors)) return;
    auto parsed = parse_diskstats(ctx.buf);
    if (!parsed) return s.errors.push_back(file_.reason(parsed.error().message()));
    if (parsed->skipped > 0) s.errors.push_back(file_.reason(left_out_reason(parsed->skipped)));
    if (devices_.update(parsed->devices)) {
      std::vector<std::string> info;
      info.reserve(devices_.kept().size());
      for (const auto& k : devices_.kept()) info.push_back(info_labels(parsed->devices[k.line]));
      info_labels_ = metrics::LabelBlocks(std::move(info));
    }
    add_readings(s, parsed->devices, ctx.steady);
    add_families(s.families, parsed->devices);
  }

 private:
  struct Counters {
    std::uint64_t read_sectors = 0;
    std::uint64_t written_sectors = 0;
  };

  // udev's model, path, revision, serial and wwn are not read: empty, as node_exporter prints
  // them on a host without /run/udev/data.
  static std::string info_labels(const DiskStatsLine& l) {
    const std::string major = std::to_string(l.major);
    const std::string minor = std::to_string(l.minor);
    return metrics::labels({{"device", l.device},
                            {"major", major},
                            {"minor", minor},
                            {"model", ""},
                            {"path", ""},
                            {"revision", ""},
                            {"serial", ""},
                            {"wwn", ""}});
  }

  void add_readings(Snapshot& s, const std::vector<DiskStatsLine>& lines,
                    std::chrono::steady_clock::time_point now) {
    const double elapsed = devices_.elapsed(now);
    s.disks.reserve(devices_.kept().size());
    for (auto& k : devices_.kept()) {
      const DiskStatsLine& l = lines[k.line];
      const Counters current{l[DiskStat::kSectorsRead], l[DiskStat::kSectorsWritten]};
      DiskReading r;
      r.device = k.device;
      r.read_bytes = saturated_bytes(current.read_sectors);
      r.written_bytes = saturated_bytes(current.written_sectors);
      r.io_time_seconds = static_cast<double>(l[DiskStat::kIoMs]) / 1000;
      if (k.previous) {
        r.read_bytes_per_second =
            bytes_rate(k.previous->read_sectors, current.read_sectors, elapsed);
        r.written_bytes_per_second =
            bytes_rate(k.previous->written_sectors, current.written_sectors, elapsed);
      }
      k.previous = current;
      s.disks.push_back(std::move(r));
    }
  }

  static std::optional<double> bytes_rate(std::uint64_t before, std::uint64_t now, double seconds) {
    auto sectors = rate(before, now, seconds);
    if (sectors) *sectors *= kSectorBytes;
    return sectors;
  }

  void add_families(metrics::FamilySet& f, const std::vector<DiskStatsLine>& lines) const {
    const auto& kept = devices_.kept();
    if (kept.empty()) return;
    std::size_t columns = 0;
    for (const auto& k : kept) columns = std::max(columns, lines[k.line].fields);
    for (std::size_t c = 0; c < columns; ++c) {
      const DiskFamily& d = kFamilies[c];
      auto& family = f.add(metrics::Text::unowned(d.name), metrics::Text::unowned(d.help), d.type);
      family.series.reserve(kept.size());
      for (std::size_t j = 0; j < kept.size(); ++j) {
        const DiskStatsLine& l = lines[kept[j].line];
        if (c < l.fields) devices_.labels().add(family, j, in_unit(d.unit, l.stats[c]));
      }
    }
    auto& info = f.add("node_disk_info", "Block device names (udev properties not read).",
                       metrics::Type::kGauge);
    info.series.reserve(kept.size());
    for (std::size_t j = 0; j < kept.size(); ++j) info_labels_.add(info, j, std::uint64_t{1});
  }

  KeptFile file_;
  DeviceSet<Counters> devices_;
  metrics::LabelBlocks info_labels_;  // node_disk_info's, per devices_.kept() entry
};

}  // namespace

Result<std::unique_ptr<Source>> make_diskstats_source(const SourceOptions& o) {
  auto exclude = compile_regex("diskstats device exclude", o.diskstats_device_exclude);
  if (!exclude) return exclude.error();
  return std::make_unique<DiskstatsSource>(o, std::move(*exclude));
}

}  // namespace nodeagent::nodeinfo
