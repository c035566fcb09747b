#include "nodeagent/snapshot.h"

#include <gtest/gtest.h>

namespace nodeagent::client {
namespace {

// Shaped like the agent's /v1/node (src/render/json.cc, docs/node.schema.json), trimmed.
constexpr std::string_view kFull = R"({
  "node": "kind-worker", "time": "2026-11-23T12:53:37.123Z", "time_unix_seconds": 1795445617.123,
  "uptime_seconds": 21490.99, "boot_time": "2026-11-23T06:55:26.000Z",
  "load": {"1m": 1.62, "5m": 1.83, "15m": 2.25},
  "threads": {"running": 2, "total": 3479},
  "processes": {"running": 2, "blocked": 0, "forks_total": 9, "context_switches_total": 10},
  "cpu": {"count": 4, "seconds": {"user": 1.5},
          "utilisation": {"user": 0.25, "nice": 0, "system": 0.05, "idle": 0.6, "iowait": 0.1,
                          "irq": 0, "softirq": 0, "steal": 0, "guest": 0, "guest_nice": 0},
          "per_cpu": [{"cpu": 0, "seconds": {"user": 1}}]},
  "memory": {"total_bytes": 8000, "available_bytes": 6000, "used_bytes": 2000, "free_bytes": 1000,
             "buffers_bytes": null},
  "pressure": {"cpu": {"some": {"avg10": 1.5, "avg60": 1, "avg300": 0.5, "total_seconds": 3},
                       "full": null},
               "memory": {"some": {"avg10": 0, "avg60": 0, "avg300": 0, "total_seconds": 0},
                          "full": {"avg10": 0.1, "avg60": 0, "avg300": 0, "total_seconds": 0}},
               "io": null},
  "numa_nodes": 2,
  "kernel_release": "6.1.0-13-amd64",
  "errors": [],
  "future_member": {"ignored": true}
})";

TEST(ParseNodeJson, ReadsEveryTypedField) {
  auto s = parse_node_json(kFull);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->node, "kind-worker");
  EXPECT_EQ(s->time, "2026-11-23T12:53:37.123Z");
  EXPECT_DOUBLE_EQ(*s->uptime_seconds, 21490.99);
  EXPECT_DOUBLE_EQ(s->load->load1, 1.62);
  EXPECT_DOUBLE_EQ(s->load->load15, 2.25);
  EXPECT_EQ(s->threads->running, 2u);
  EXPECT_EQ(s->threads->total, 3479u);
  EXPECT_EQ(s->cpu->count, 4u);
  EXPECT_DOUBLE_EQ(s->cpu->utilisation.at("user"), 0.25);
  EXPECT_NEAR(*s->cpu->busy(), 0.3, 1e-9);
  EXPECT_EQ(s->memory->total_bytes, 8000u);
  EXPECT_EQ(s->memory->used_bytes, 2000u);
  ASSERT_EQ(s->pressure.size(), 2u);
  EXPECT_DOUBLE_EQ(s->pressure.at("cpu").some.avg10, 1.5);
  EXPECT_FALSE(s->pressure.at("cpu").full.has_value());
  EXPECT_DOUBLE_EQ(s->pressure.at("memory").full->avg10, 0.1);
  EXPECT_EQ(s->numa_nodes, 2u);
  EXPECT_EQ(s->kernel_release, "6.1.0-13-amd64");
  EXPECT_TRUE(s->errors.empty());
}

TEST(ParseNodeJson, MissingOrNullOptionalReadingsStayEmpty) {
  auto s = parse_node_json(R"({"node": "n1", "uptime_seconds": null, "load": null,
      "threads": null, "cpu": {"count": 2, "utilisation": null}, "memory": null,
      "pressure": {"cpu": null}, "numa_nodes": null, "kernel_release": null,
      "errors": ["/proc/loadavg: No such file or directory"]})");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->node, "n1");
  EXPECT_FALSE(s->uptime_seconds);
  EXPECT_FALSE(s->load);
  EXPECT_FALSE(s->threads);
  EXPECT_EQ(s->cpu->count, 2u);
  EXPECT_FALSE(s->cpu->busy());
  EXPECT_FALSE(s->memory);
  EXPECT_TRUE(s->pressure.empty());
  EXPECT_FALSE(s->numa_nodes);
  EXPECT_FALSE(s->kernel_release);
  ASSERT_EQ(s->errors.size(), 1u);

  auto minimal = parse_node_json(R"({"node": "n2"})");
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->node, "n2");
}

TEST(ParseNodeJson, BadDocumentsAreUnparsableWithAReason) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "invalid JSON"},
      {"{\"node\": \"n\"", "invalid JSON"},
      {"[1,2]", "expected a JSON object"},
      {"{}", "missing member \"node\""},
      {R"({"node": 7})", "\"node\": expected string"},
      {R"({"node": "n", "load": [1]})", "\"load\": expected object"},
      {R"({"node": "n", "load": {"1m": 1, "5m": 1}})", "missing member \"load.15m\""},
      {R"({"node": "n", "load": {"1m": "x", "5m": 1, "15m": 1}})", "\"load.1m\": expected number"},
      {R"({"node": "n", "threads": {"running": -1, "total": 1}})", "expected unsigned integer"},
      {R"({"node": "n", "cpu": {"count": 1, "utilisation": {"idle": "x"}}})",
       "\"cpu.utilisation.idle\""},
      {R"({"node": "n", "pressure": {"io": {"full": null}}})", "\"pressure.io.some\""},
      {R"({"node": "n", "errors": "x"})", "\"errors\": expected array"},
      {R"({"node": "n", "errors": ["a", 1]})", "\"errors\": expected strings"},
      {R"({"node": "n", "time": 1})", "\"time\": expected string"},
      {R"({"node": "n", "memory": {"used_bytes": 1.5}})",
       "\"memory.used_bytes\": expected unsigned"},
      {R"({"node": "n", "pressure": {"io": 1}})", "\"pressure.io\": expected object"},
      {R"({"node": "n", "pressure": {"io": {"some": {"avg10": 1, "avg60": 1, "avg300": 1},
          "full": {"avg10": 1}}}})",
       "missing member \"pressure.io.full.avg60\""},
      {R"({"node": "n", "numa_nodes": 4294967296})", "\"numa_nodes\": out of range"},
      {R"({"node": "n", "cpu": {"count": 4294967296}})", "\"cpu.count\": out of range"},
      {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]"
       "]]]]]"
       "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
       "invalid JSON"},
  };
  for (const auto& [doc, why] : cases) {
    auto s = parse_node_json(doc);
    ASSERT_FALSE(s) << doc;
    EXPECT_EQ(s.error().code, ErrorCode::kUnparsableBody) << doc;
    EXPECT_NE(s.error().message().find(why), std::string::npos)
        << doc << " -> " << s.error().message();
  }
}

}  // namespace
}  // namespace nodeagent::client
