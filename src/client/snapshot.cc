#include "nodeagent/snapshot.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <limits>

namespace nodeagent::client {
namespace {

namespace json = boost::json;

struct Bad {
  std::string why;
};

// Accessors: a required member must exist with the right type; an optional one may be missing or
// null. Type errors name the member path so a schema drift is easy to locate.
const json::value* member(const json::object& o, std::string_view key, std::string_view path,
                          bool required) {
  const json::value* v = o.if_contains(key);
  if ((v == nullptr || v->is_null()) && required) {
    throw Bad{"missing member \"" + std::string(path) + std::string(key) + "\""};
  }
  return v == nullptr || v->is_null() ? nullptr : v;
}

const json::object* object_at(const json::object& o, std::string_view key, std::string_view path,
                              bool required) {
  const json::value* v = member(o, key, path, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object())
    throw Bad{"member \"" + std::string(path) + std::string(key) + "\": expected object"};
  return &v->get_object();
}

std::optional<double> number_at(const json::object& o, std::string_view key, std::string_view path,
                                bool required) {
  const json::value* v = member(o, key, path, required);
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  throw Bad{"member \"" + std::string(path) + std::string(key) + "\": expected number"};
}

std::optional<std::uint64_t> count_at(const json::object& o, std::string_view key,
                                      std::string_view path, bool required) {
  const json::value* v = member(o, key, path, required);
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  throw Bad{"member \"" + std::string(path) + std::string(key) + "\": expected unsigned integer"};
}

std::optional<std::string> string_at(const json::object& o, std::string_view key,
                                     std::string_view path, bool required) {
  const json::value* v = member(o, key, path, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string())
    throw Bad{"member \"" + std::string(path) + std::string(key) + "\": expected string"};
  return std::string(v->get_string());
}

PressureAverages averages(const json::object& o, const std::string& path) {
  return PressureAverages{*number_at(o, "avg10", path, true), *number_at(o, "avg60", path, true),
                          *number_at(o, "avg300", path, true)};
}

NodeSnapshot convert(const json::object& doc) {
  NodeSnapshot s;
  s.node = *string_at(doc, "node", "", true);
  s.time = string_at(doc, "time", "", false).value_or("");
  s.uptime_seconds = number_at(doc, "uptime_seconds", "", false);
  if (const auto* load = object_at(doc, "load", "", false)) {
    s.load =
        LoadAverage{*number_at(*load, "1m", "load.", true), *number_at(*load, "5m", "load.", true),
                    *number_at(*load, "15m", "load.", true)};
  }
  if (const auto* threads = object_at(doc, "threads", "", false)) {
    s.threads = Threads{*count_at(*threads, "running", "threads.", true),
                        *count_at(*threads, "total", "threads.", true)};
  }
  if (const auto* cpu = object_at(doc, "cpu", "", false)) {
    Cpu c;
    c.count = static_cast<unsigned>(*count_at(*cpu, "count", "cpu.", true));
    if (const auto* util = object_at(*cpu, "utilisation", "cpu.", false)) {
      for (const auto& kv : *util) {
        if (kv.value().is_null()) continue;
        c.utilisation.emplace(std::string(kv.key()),
                              *number_at(*util, kv.key(), "cpu.utilisation.", true));
      }
    }
    s.cpu = std::move(c);
  }
  if (const auto* mem = object_at(doc, "memory", "", false)) {
    s.memory = Memory{count_at(*mem, "total_bytes", "memory.", false),
                      count_at(*mem, "available_bytes", "memory.", false),
                      count_at(*mem, "used_bytes", "memory.", false),
                      count_at(*mem, "free_bytes", "memory.", false)};
  }
  if (const auto* pressure = object_at(doc, "pressure", "", false)) {
    for (const auto& kv : *pressure) {
      if (kv.value().is_null()) continue;
      std::string p = "pressure." + std::string(kv.key()) + ".";
      const auto* r = object_at(*pressure, kv.key(), "pressure.", true);
      PressureResource res;
      res.some = averages(*object_at(*r, "some", p, true), p + "some.");
      if (const auto* full = object_at(*r, "full", p, false))
        res.full = averages(*full, p + "full.");
      s.pressure.emplace(std::string(kv.key()), res);
    }
  }
  if (auto nodes = count_at(doc, "numa_nodes", "", false)) {
    if (*nodes > std::numeric_limits<std::uint32_t>::max())
      throw Bad{"member \"numa_nodes\": out of range"};
    s.numa_nodes = static_cast<std::uint32_t>(*nodes);
  }
  s.kernel_release = string_at(doc, "kernel_release", "", false);
  if (const auto* errors = member(doc, "errors", "", false)) {
    if (!errors->is_array()) throw Bad{"member \"errors\": expected array"};
    for (const auto& e : errors->get_array()) {
      if (!e.is_string()) throw Bad{"member \"errors\": expected strings"};
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
  try {
    return convert(v.get_object());
  } catch (const Bad& bad) {
    return Error{ErrorCode::kUnparsableBody, bad.why, 0};
  }
}

}  // namespace nodeagent::client
