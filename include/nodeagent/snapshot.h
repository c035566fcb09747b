#pragma once
// Typed view of the agent's /v1/node JSON document (docs/node.schema.json).
// Parsing is tolerant in the direction the schema allows: optional members that are missing or
// null stay empty, unknown members are ignored (newer agents may add some). Required members
// missing or of the wrong type make the document unparsable.
// Thread-safety: plain value types and a pure function.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodeagent/error.h"

namespace nodeagent::client {

struct LoadAverage {  // "load": {"1m", "5m", "15m"}
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
};

struct Threads {  // "threads": runnable / existing kernel scheduling entities
  std::uint64_t running = 0;
  std::uint64_t total = 0;
};

struct Cpu {
  unsigned count = 0;  // online cpus
  // Share of cpu time per mode ("user", "system", "idle", "iowait", ...) over the agent's last
  // sampling interval, 0..1; empty until the agent has two samples.
  std::map<std::string, double, std::less<>> utilisation;

  // 1 - idle - iowait, when the agent reported utilisation.
  std::optional<double> busy() const;
};

struct Memory {  // bytes; each empty when the kernel does not report it
  std::optional<std::uint64_t> total_bytes;
  std::optional<std::uint64_t> available_bytes;
  std::optional<std::uint64_t> used_bytes;
  std::optional<std::uint64_t> free_bytes;
};

struct PressureAverages {  // percent of wall time stalled over 10 s / 60 s / 300 s
  double avg10 = 0;
  double avg60 = 0;
  double avg300 = 0;
};

struct PressureResource {
  PressureAverages some;
  std::optional<PressureAverages> full;
};

// Readings the agent could not take are empty (the document has null there).
struct NodeSnapshot {
  std::string node;  // node name
  std::string time;  // RFC 3339 time the snapshot was taken
  std::optional<double> uptime_seconds;
  std::optional<LoadAverage> load;
  std::optional<Threads> threads;
  std::optional<Cpu> cpu;
  std::optional<Memory> memory;
  // "cpu", "memory", "io" present when the kernel has PSI for them.
  std::map<std::string, PressureResource, std::less<>> pressure;
  std::optional<std::uint32_t> numa_nodes;  // empty on kernels without NUMA support
  std::optional<std::string> kernel_release;
  std::vector<std::string> errors;  // the agent's per-source read errors
};

// kUnparsableBody with a detail like "member \"load\": expected object" on a bad document.
Result<NodeSnapshot> parse_node_json(std::string_view json);

}  // namespace nodeagent::client
