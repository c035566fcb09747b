// /proc/vmstat: node_exporter's node_vmstat_<field> (untyped, the raw counter) for every field
// whose name matches --collector.vmstat.fields.
#include "nodeinfo/sources/vmstat.h"

#include <algorithm>
#include <regex>

#include "nodeinfo/source.h"
#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

// A name that can follow "node_vmstat_" in a metric name as the kernel spells it.
bool plain_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxVmstatNameSize &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

// Sorting views finds a repeated name in n log n (a quadratic scan would cost more per sample
// than reading the file).
std::optional<std::string_view> first_duplicate(const std::vector<VmstatLine>& lines) {
  std::vector<std::string_view> names;
  names.reserve(lines.size());
  for (const VmstatLine& l : lines) names.push_back(l.name);
  std::sort(names.begin(), names.end());
  const auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup == names.end()) return std::nullopt;
  return *dup;
}

}  // namespace

Result<Vmstat> parse_vmstat(std::string_view text, const std::vector<std::string>& known) {
  if (text.empty()) return malformed("empty input");
  if (text.back() != '\n') return malformed("truncated input (no trailing newline)");
  Vmstat out;
  out.lines.reserve(known.empty() ? 256 : known.size());
  std::string_view rest = text;
  for (std::size_t line_no = 1; !rest.empty(); ++line_no) {
    if (line_no > kMaxVmstatLines) {
      return malformed("more than " + std::to_string(kMaxVmstatLines) + " lines");
    }
    std::string_view line = next_line(rest);
    const std::string_view name = next_field(line);
    const std::string_view value = next_field(line);
    if (name.empty() || value.empty() || !only_blanks(line)) {
      return line_error(line_no, "expected \"<name> <value>\"");
    }
    std::uint64_t n = 0;
    if (!to_u64(value, n)) return line_error(line_no, "bad value " + quoted(value));
    if (plain_name(name)) out.lines.push_back(VmstatLine{name, n});
  }
  out.same_as_known =
      !known.empty() && known.size() == out.lines.size() &&
      std::equal(known.begin(), known.end(), out.lines.begin(),
                 [](const std::string& k, const VmstatLine& l) { return k == l.name; });
  if (out.same_as_known) return out;
  if (auto dup = first_duplicate(out.lines)) return malformed("duplicate " + quoted(*dup));
  return out;
}

namespace {

class VmstatSource final : public Source {
 public:
  VmstatSource(const SourceOptions& o, std::regex fields)
      : file_(o.fs.procfs, "vmstat", /*whole_records=*/true), fields_(std::move(fields)) {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!file_.read(ctx.buf, s.errors)) return;
    auto vm = parse_vmstat(ctx.buf, names_);
    if (!vm) return s.errors.push_back(file_.reason(vm.error().message()));
    if (!vm->same_as_known) decide(vm->lines);
    for (std::size_t i = 0; i < vm->lines.size(); ++i) {
      const Kept& kept = kept_[i];
      if (kept.metric.empty()) continue;
      s.families.add(kept.metric, kept.help, metrics::Type::kUntyped).add(vm->lines[i].value);
    }
  }

 private:
  // Runs the regex once per name. node_exporter's flag is searched for anywhere in the name
  // (Go's MatchString), hence regex_search; the defaults are anchored at the start.
  void decide(const std::vector<VmstatLine>& lines) {
    names_.clear();
    kept_.clear();
    for (const VmstatLine& l : lines) {
      names_.emplace_back(l.name);
      if (std::regex_search(l.name.begin(), l.name.end(), fields_)) {
        kept_.push_back(Kept{"node_vmstat_" + names_.back(),
                             "Kernel counter " + names_.back() + " from /proc/vmstat."});
      } else {
        kept_.push_back(Kept{});
      }
    }
  }

  struct Kept {
    metrics::Text metric;  // "" when the field is left out
    metrics::Text help;
  };

  KeptFile file_;
  std::regex fields_;
  std::vector<std::string> names_;  // the field names of the last sample, in file order
  std::vector<Kept> kept_;          // per name: its family, or none
};

}  // namespace

Result<std::unique_ptr<Source>> make_vmstat_source(const SourceOptions& o) {
  auto fields = compile_regex("vmstat fields", o.vmstat_fields);
  if (!fields) return fields.error();
  return std::make_unique<VmstatSource>(o, std::move(*fields));
}

}  // namespace nodeagent::nodeinfo
