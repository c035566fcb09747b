#pragma once
// The /v1/node document and its Server-Sent Events framing; docs/api.md describes every field
// and docs/node.schema.json is the schema. Output is compact (one line) UTF-8 JSON.
// Missing readings: keys are never omitted, the unavailable value is null (see docs/api.md).
//
// Thread-safety: pure functions of the snapshot, safe to call concurrently.

#include <string>
#include <string_view>

#include "nodeinfo/snapshot.h"

namespace nodeagent::render {

std::string render_json(const nodeinfo::Snapshot& snapshot);

// "id: <unix ms of taken_at>\nevent: node\ndata: <render_json>\n\n".
std::string render_sse_event(const nodeinfo::Snapshot& snapshot);
// The same framing around an already rendered document, so the JSON is rendered once.
std::string render_sse_event(const nodeinfo::Snapshot& snapshot, std::string_view json);

// Appends `s` as a JSON string literal (quotes included); invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s);

// "2026-11-23T12:53:37.123Z" (UTC, milliseconds).
std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace nodeagent::render
