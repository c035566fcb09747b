#include "metrics/family.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>
#include <iterator>
#include <ostream>

#include "nodeagent/printable.h"

namespace nodeagent::metrics {

void append_label_value(std::string& out, std::string_view v) {
  for (std::size_t i = 0; i < v.size();) {
    const char c = v[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      // Prometheus refuses a whole scrape over one label value that is not UTF-8 (a mount
      // source or interface name can be any bytes): such a byte becomes U+FFFD.
      const std::size_t len = utf8_sequence_length(v, i);
      if (len == 0) {
        out.append("\xef\xbf\xbd");
        ++i;
      } else {
        out.append(v.substr(i, len));
        i += len;
      }
      continue;
    }
    ++i;
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

std::string labels(LabelPairs pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back(',');
    out.append(name);
    out.append("=\"");
    append_label_value(out, value);
    out.push_back('"');
  }
  return out;
}

std::ostream& operator<<(std::ostream& out, const Text& t) { return out << t.view(); }

Family& FamilySet::add(Text name, Text help, Type type) {
  assert(find(name) == nullptr);
  return families_.emplace_back(Family{std::move(name), std::move(help), type, {}});
}

Family& FamilySet::add(Family family) {
  assert(find(family.name) == nullptr);
  return families_.emplace_back(std::move(family));
}

void FamilySet::append(FamilySet&& other) {
  families_.reserve(families_.size() + other.families_.size());
  for (Family& f : other.families_) families_.push_back(std::move(f));
  other.families_.clear();
}

const Family* FamilySet::find(std::string_view name) const {
  for (const Family& f : families_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void append_value(std::string& out, const Value& v) {
  if (const double* d = std::get_if<double>(&v)) {
    if (std::isnan(*d)) {
      out.append("NaN");
    } else if (std::isinf(*d)) {
      out.append(*d > 0 ? "+Inf" : "-Inf");
    } else {
      // Shortest round-trip; Go's ParseFloat reads the exponent forms fmt may produce.
      fmt::format_to(std::back_inserter(out), "{}", *d);
    }
  } else {
    std::visit([&out](auto n) { fmt::format_to(std::back_inserter(out), "{}", n); }, v);
  }
}

namespace {
std::string_view type_name(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kUntyped:
      return "untyped";
    case Type::kGauge:
      break;
  }
  return "gauge";
}
}  // namespace

void append_text(std::string& out, const Family& f) {
  if (f.series.empty()) return;
  fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} {2}\n", f.name.view(),
                 f.help.view(), type_name(f.type));
  for (const Series& s : f.series) {
    out.append(f.name);
    if (!s.labels.empty()) {
      out.push_back('{');
      out.append(s.labels);
      out.push_back('}');
    }
    out.push_back(' ');
    append_value(out, s.value);
    out.push_back('\n');
  }
}

void append_text(std::string& out, const FamilySet& set) {
  for (const Family& f : set.families()) append_text(out, f);
}

}  // namespace nodeagent::metrics
