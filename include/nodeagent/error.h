#pragma once
// Typed errors of the node-agent client library. Every call returns Result<T> instead of throwing,
// so callers (Kiada's pages, readiness probes) can always show *why* the agent is unreachable.
// Thread-safety: plain value types; no shared state.

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "nodeagent/printable.h"

namespace nodeagent::client {

enum class ErrorCode {
  kNoAgentConfigured = 1,  // no explicit URL, NODE_AGENT_URL nor NODE_IP
  kInvalidUrl,             // URL does not parse or has an unsupported scheme
  kResolveFailed,          // DNS name did not resolve
  kConnectionRefused,      // nothing listens there (ECONNREFUSED, or no socket file)
  kConnectFailed,          // any other connect error (unreachable, permission denied, ...)
  kTimeout,                // the call's deadline passed (resolve+connect+request+response)
  kConnectionClosed,       // the peer closed or reset the connection mid-exchange
  kProtocol,               // the peer did not speak HTTP/1.1 or SSE as expected
  kBadStatus,              // a well-formed answer with a non-2xx status
  kBodyTooLarge,           // answer larger than ClientOptions::max_body_bytes
  kUnparsableBody,         // 2xx, but the body is not what the route promises (e.g. bad JSON)
  kCancelled,              // stopped through the caller's std::stop_token
  kWrongNode,              // the answer came from (or names) another node than expected_node
};

// Stable lower-case name, e.g. "connection refused"; used in messages and by the CLI.
std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kProtocol;
  std::string detail;        // what was tried, e.g. "127.0.0.1:11559" or the parser's complaint
  unsigned http_status = 0;  // set for kBadStatus

  // One line for humans and for Kiada's `Node info: ERROR: <message>`,
  // e.g. "connection refused: 127.0.0.1:11559". The detail goes through printable(), so the
  // message is safe to print even when it quotes the agent.
  std::string message() const;
};

// Result<T>::value() on an error throws std::runtime_error(message()); prefer checking has_value.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace nodeagent::client
