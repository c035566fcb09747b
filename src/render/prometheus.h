#pragma once
// Prometheus text exposition format 0.0.4 for one snapshot: its families (Snapshot::families,
// filled by the sources) through the one serializer, metrics::append_text. Names follow
// node_exporter where the meaning is the same; docs/api.md lists every family with its source.
//
// Thread-safety: pure function of the snapshot, safe to call concurrently.

#include <string>

#include "nodeinfo/snapshot.h"

namespace nodeagent::render {

// Families only, no trailing "# EOF" (that is OpenMetrics); callers may append their own
// families (HTTP and process metrics) after it.
std::string render_prometheus(const nodeinfo::Snapshot& snapshot);

}  // namespace nodeagent::render
