#pragma once
// Prometheus text exposition format 0.0.4 for one snapshot. Names follow node_exporter where the
// meaning is the same, so existing dashboards and alerts work; docs/api.md lists every family
// with its source. A reading that is missing omits its whole family (no zeros, no NaN).
//
// Thread-safety: pure function of the snapshot, safe to call concurrently.

#include <string>

#include "nodeinfo/snapshot.h"

namespace nodeagent::render {

// Families only, no trailing "# EOF" (that is OpenMetrics); callers may append their own
// families (HTTP and process metrics) after it.
std::string render_prometheus(const nodeinfo::Snapshot& snapshot);

// Appends `v` escaped for a label value (backslash, double quote, newline).
void append_label_value(std::string& out, std::string_view v);

}  // namespace nodeagent::render
