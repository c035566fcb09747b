#include "nodeagent/snapshot.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>

namespace nodeagent::client {
namespace {

namespace json = boost::json;

// The document is untrusted input (any agent, or anything answering in its place), so every
// mismatch is an expected failure: kUnparsableBody naming the member path, so a schema drift is
// easy to locate.
Error bad(std::string why) { return Error{ErrorCode::kUnparsableBody, std::move(why)}; }

std::string name_of(std::string_view path, std::string_view key) {
  return std::string(path) + std::string(key);
}

Error expected(const std::string& name, std::string_view what) {
  return bad("member \"" + name + "\": expected " + std::string(what));
}

// Converters: a present, non-null member's value as the type the schema promises.
Result<double> to_number(const json::value& v, const std::string& name) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return expected(name, "number");
}

Result<std::uint64_t> to_count(const json::value& v, const std::string& name) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  return expected(name, "unsigned integer");
}

Result<std::string> to_text(const json::value& v, const std::string& name) {
  if (!v.is_string()) return expected(name, "string");
  return std::string(v.get_string());
}

Result<std::reference_wrapper<const json::object>> to_object(const json::value& v,
                                                             const std::string& name) {
  if (!v.is_object()) return expected(name, "object");
  return std::cref(v.get_object());
}

template <class Convert>
using Converted =
    typename std::invoke_result_t<Convert, const json::value&, const std::string&>::value_type;

// A required member: missing or null is an error.
template <class Convert>
Result<Converted<Convert>> required_member(const json::object& o, std::string_view key,
                                           std::string_view path, Convert convert) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return bad("missing member \"" + name_of(path, key) + "\"");
  return convert(*v, name_of(path, key));
}

// An optional member: missing or null is an empty optional, a wrong type an error.
template <class Convert>
Result<std::optional<Converted<Convert>>> optional_member(const json::object& o,
                                                          std::string_view key,
                                                          std::string_view path, Convert convert) {
  using T = Converted<Convert>;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<T>();
  Result<T> r = convert(*v, name_of(path, key));
  if (!r) return r.error();
  return std::optional<T>(std::move(*r));
}

Result<PressureAverages> averages(const json::object& o, const std::string& path) {
  auto avg10 = required_member(o, "avg10", path, to_number);
  if (!avg10) return avg10.error();
  auto avg60 = required_member(o, "avg60", path, to_number);
  if (!avg60) return avg60.error();
  auto avg300 = required_member(o, "avg300", path, to_number);
  if (!avg300) return avg300.error();
  return PressureAverages{*avg10, *avg60, *avg300};
}

Result<LoadAverage> load_of(const json::object& o) {
  auto load1 = required_member(o, "1m", "load.", to_number);
  if (!load1) return load1.error();
  auto load5 = required_member(o, "5m", "load.", to_number);
  if (!load5) return load5.error();
  auto load15 = required_member(o, "15m", "load.", to_number);
  if (!load15) return load15.error();
  return LoadAverage{*load1, *load5, *load15};
}

Result<Threads> threads_of(const json::object& o) {
  auto running = required_member(o, "running", "threads.", to_count);
  if (!running) return running.error();
  auto total = required_member(o, "total", "threads.", to_count);
  if (!total) return total.error();
  return Threads{*running, *total};
}

Result<Cpu> cpu_of(const json::object& o) {
  Cpu c;
  auto count = required_member(o, "count", "cpu.", to_count);
  if (!count) return count.error();
  if (*count > std::numeric_limits<unsigned>::max())
    return bad("member \"cpu.count\": out of range");
  c.count = static_cast<unsigned>(*count);
  auto util = optional_member(o, "utilisation", "cpu.", to_object);
  if (!util) return util.error();
  if (*util) {
    const json::object& modes = **util;
    for (const auto& kv : modes) {
      if (kv.value().is_null()) continue;
      auto share = to_number(kv.value(), name_of("cpu.utilisation.", kv.key()));
      if (!share) return share.error();
      c.utilisation.emplace(std::string(kv.key()), *share);
    }
  }
  return c;
}

Result<Memory> memory_of(const json::object& o) {
  Memory m;
  const std::pair<std::string_view, std::optional<std::uint64_t>*> fields[] = {
      {"total_bytes", &m.total_bytes},
      {"available_bytes", &m.available_bytes},
      {"used_bytes", &m.used_bytes},
      {"free_bytes", &m.free_bytes},
  };
  for (const auto& [key, field] : fields) {
    auto bytes = optional_member(o, key, "memory.", to_count);
    if (!bytes) return bytes.error();
    *field = *bytes;
  }
  return m;
}

Result<void> pressure_of(const json::object& o, NodeSnapshot& s) {
  for (const auto& kv : o) {
    if (kv.value().is_null()) continue;
    const std::string p = "pressure." + std::string(kv.key()) + ".";
    auto r = to_object(kv.value(), name_of("pressure.", kv.key()));
    if (!r) return r.error();
    const json::object& resource = *r;
    PressureResource res;
    auto some = required_member(resource, "some", p, to_object);
    if (!some) return some.error();
    auto some_avg = averages(*some, p + "some.");
    if (!some_avg) return some_avg.error();
    res.some = *some_avg;
    auto full = optional_member(resource, "full", p, to_object);
    if (!full) return full.error();
    if (*full) {
      auto full_avg = averages(**full, p + "full.");
      if (!full_avg) return full_avg.error();
      res.full = *full_avg;
    }
    s.pressure.emplace(std::string(kv.key()), res);
  }
  return {};
}

Result<NodeSnapshot> convert(const json::object& doc) {
  NodeSnapshot s;
  auto node = required_member(doc, "node", "", to_text);
  if (!node) return node.error();
  s.node = std::move(*node);
  auto time = optional_member(doc, "time", "", to_text);
  if (!time) return time.error();
  s.time = time->value_or("");
  auto uptime = optional_member(doc, "uptime_seconds", "", to_number);
  if (!uptime) return uptime.error();
  s.uptime_seconds = *uptime;

  auto load = optional_member(doc, "load", "", to_object);
  if (!load) return load.error();
  if (*load) {
    auto l = load_of(**load);
    if (!l) return l.error();
    s.load = *l;
  }
  auto threads = optional_member(doc, "threads", "", to_object);
  if (!threads) return threads.error();
  if (*threads) {
    auto t = threads_of(**threads);
    if (!t) return t.error();
    s.threads = *t;
  }
  auto cpu = optional_member(doc, "cpu", "", to_object);
  if (!cpu) return cpu.error();
  if (*cpu) {
    auto c = cpu_of(**cpu);
    if (!c) return c.error();
    s.cpu = std::move(*c);
  }
  auto memory = optional_member(doc, "memory", "", to_object);
  if (!memory) return memory.error();
  if (*memory) {
    auto m = memory_of(**memory);
    if (!m) return m.error();
    s.memory = *m;
  }
  auto pressure = optional_member(doc, "pressure", "", to_object);
  if (!pressure) return pressure.error();
  if (*pressure) {
    if (auto p = pressure_of(**pressure, s); !p) return p.error();
  }

  auto nodes = optional_member(doc, "numa_nodes", "", to_count);
  if (!nodes) return nodes.error();
  if (*nodes) {
    if (**nodes > std::numeric_limits<std::uint32_t>::max())
      return bad("member \"numa_nodes\": out of range");
    s.numa_nodes = static_cast<std::uint32_t>(**nodes);
  }
  auto kernel = optional_member(doc, "kernel_release", "", to_text);
  if (!kernel) return kernel.error();
  s.kernel_release = std::move(*kernel);

  if (const json::value* errors = doc.if_contains("errors"); errors && !errors->is_null()) {
    if (!errors->is_array()) return bad("member \"errors\": expected array");
    for (const auto& e : errors->get_array()) {
      if (!e.is_string()) return bad("member \"errors\": expected strings");
      s.errors.emplace_back(e.get_string());
    }
  }
  return s;
}

}  // namespace

std::optional<double> Cpu::busy() const {
  auto idle = utilisation.find("idle");
  if (idle == utilisation.end()) return std::nullopt;
  auto iowait = utilisation.find("iowait");
  double b = 1.0 - idle->second - (iowait == utilisation.end() ? 0.0 : iowait->second);
  return b < 0 ? 0 : b;
}

Result<NodeSnapshot> parse_node_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Error{ErrorCode::kUnparsableBody, "invalid JSON: " + ec.message(), 0};
  if (!v.is_object()) return Error{ErrorCode::kUnparsableBody, "expected a JSON object", 0};
  return convert(v.get_object());
}

}  // namespace nodeagent::client
