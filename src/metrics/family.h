#pragma once
// The one model of a Prometheus metric family and the one writer of the text exposition format
// (version 0.0.4). Host sources, the renderer and the agent's own metrics all fill a FamilySet;
// append_text() is the only code that prints "# HELP", "# TYPE" and sample lines.
//
// Thread-safety: a const FamilySet may be read concurrently; building one is single-threaded.

#include <cassert>
#include <cstdint>
#include <initializer_list>
#include <memory>
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
  Family() = default;
  Family(Text n, Text h, Type t, std::vector<Series> s = {})
      : name(std::move(n)), help(std::move(h)), type(t), series(std::move(s)) {}

  Text name;
  Text help;
  Type type = Type::kGauge;
  std::vector<Series> series;  // a family without series is not written
  // What the series' label views point into when they come from a LabelBlocks (one reference
  // for the family instead of one per series).
  std::shared_ptr<const void> keep;

  void add(Value v) { series.push_back(Series{{}, v}); }
  void add(Text label_block, Value v) { series.push_back(Series{std::move(label_block), v}); }
  void add(LabelPairs pairs, Value v) { series.push_back(Series{labels(pairs), v}); }
};

// Label blocks a source makes once (per cpu, per device, per mount) and every sample shares: a
// family holds one reference to the whole set, not one per series, which matters with 64 cpus x
// 10 modes or a node's hundreds of pod veths. Immutable once made; remake it when the set changes.
class LabelBlocks {
 public:
  LabelBlocks() = default;
  explicit LabelBlocks(std::vector<std::string> blocks)
      : blocks_(std::make_shared<const std::vector<std::string>>(std::move(blocks))) {}

  std::size_t size() const { return blocks_ ? blocks_->size() : 0; }
  std::string_view operator[](std::size_t i) const { return (*blocks_)[i]; }
  // Adds to `f` the series with block `i` and value `v`. All series of one family that come
  // from a LabelBlocks must come from the same one.
  void add(Family& f, std::size_t i, Value v) const {
    assert(!f.keep || f.keep == blocks_);
    if (!f.keep) f.keep = blocks_;
    f.series.push_back(Series{Text::unowned((*blocks_)[i]), v});
  }

 private:
  std::shared_ptr<const std::vector<std::string>> blocks_;
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
