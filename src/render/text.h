#pragma once
// Thread-safety: pure function of the snapshot, safe to call concurrently.

#include <boost/system/errc.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <string>

#include "nodeinfo/snapshot.h"

namespace nodeagent::render {

// What render_text() reports when the snapshot lacks the seed line's sources.
// Converts to error_code (ENODATA), so `boost::system::result<std::string> r = render_text(s)`
// also compiles, losing the reason.
struct TextError {
  std::string reason;  // one line, e.g. "node info unavailable: /host/proc/loadavg: ..."
  const std::string& message() const { return reason; }
  operator boost::system::error_code() const {  // NOLINT: implicit on purpose
    return boost::system::errc::make_error_code(boost::system::errc::no_message_available);
  }
};
[[noreturn]] void throw_exception_from_error(const TextError& e, const boost::source_location& loc);

// The seed agent's line plus "\n":
// "kind-worker uptime: 5h58m10s, load average: 1.62, 1.83, 2.25, active/total threads: 2/3479"
// Error when !snapshot.ok(); the message joins the snapshot's errors on one line.
boost::system::result<std::string, TextError> render_text(const nodeinfo::Snapshot& snapshot);

}  // namespace nodeagent::render
