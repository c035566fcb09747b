#pragma once
// Thread-safety: pure function of the snapshot, safe to call concurrently.

#include <string>

#include "nodeagent/error.h"
#include "nodeinfo/snapshot.h"

namespace nodeagent::render {

// The seed agent's line plus "\n":
// "kind-worker uptime: 5h58m10s, load average: 1.62, 1.83, 2.25, active/total threads: 2/3479"
// Error{Errc::kUnavailable, reason} when !snapshot.ok(); the reason (the detail) is one line
// joining the snapshot's errors, e.g. "node info unavailable: /host/proc/loadavg: ...", and is
// what the agent serves as its 503 body.
Result<std::string> render_text(const nodeinfo::Snapshot& snapshot);

}  // namespace nodeagent::render
