#pragma once
// The one model of a Prometheus metric family and the one writer of the text exposition format
// (version 0.0.4). Host sources, the renderer and the agent's own metrics all fill a FamilySet;
// append_text() is the only code that prints "# HELP", "# TYPE" and sample lines.
//
// Thread-safety: a const FamilySet may be read concurrently; building one is single-threaded.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "metrics/text.h"

namespace nodeagent::metrics {

enum class Type : std::uint8_t { kGauge, kCounter, kUntyped };

// Integers print exactly (a byte counter beyond 2^53 stays exact); doubles print as the shortest
// text that reads back to the same value, NaN and infinities as Prometheus spells them.
using Value = std::variant<std::uint64_t, std::int64_t, double>;

struct Series {
  Text labels;  // the escaped label block without braces, `cpu="0",mode="idle"`; "" = none
  Value value;
};

using LabelPairs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// `name="value",...` in the given order (give names sorted, as node_exporter prints them), with
// each value escaped for the exposition format (backslash, double quote, newline).
std::string labels(LabelPairs pairs);
// Appends `v` escaped as a label value (no quotes).
void append_label_value(std::string& out, std::string_view v);

// Names and help texts are literals or Texts a source keeps (see text.h): a sample copies none.
struct Family {
  Text name;
  Text help;
  Type type = Type::kGauge;
  std::vector<Series> series;  // a family without series is not written

  void add(Value v) { series.push_back(Series{{}, v}); }
  void add(Text label_block, Value v) { series.push_back(Series{std::move(label_block), v}); }
  void add(LabelPairs pairs, Value v) { series.push_back(Series{labels(pairs), v}); }
};

class FamilySet {
 public:
  // A new family, written in the order added. Names must be unique within a set (checked in
  // debug builds only: every name is a constant or derived from a kernel key the parser checked).
  Family& add(Text name, Text help, Type type);
  Family& add(Family family);

  // One unlabelled series; nothing at all when the reading is missing.
  template <class T>
  void gauge(Text name, Text help, const std::optional<T>& v) {
    if (v) add(std::move(name), std::move(help), Type::kGauge).add(to_value(*v));
  }
  template <class T>
  void counter(Text name, Text help, const std::optional<T>& v) {
    if (v) add(std::move(name), std::move(help), Type::kCounter).add(to_value(*v));
  }

  // Moves every family of `other` to the end of this set.
  void append(FamilySet&& other);

  const std::vector<Family>& families() const { return families_; }
  // The family named `name`, or nullptr (tests and the Kiada summaries look families up).
  const Family* find(std::string_view name) const;
  void reserve(std::size_t n) { families_.reserve(n); }

  template <class T>
  static Value to_value(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      return static_cast<double>(v);
    } else if constexpr (std::is_signed_v<T>) {
      return static_cast<std::int64_t>(v);
    } else {
      return static_cast<std::uint64_t>(v);
    }
  }

 private:
  std::vector<Family> families_;
};

// Appends every family with at least one series: "# HELP", "# TYPE", then one line per series.
void append_text(std::string& out, const FamilySet& set);
void append_text(std::string& out, const Family& family);
// Appends `v` as the exposition format prints a sample value.
void append_value(std::string& out, const Value& v);

}  // namespace nodeagent::metrics
