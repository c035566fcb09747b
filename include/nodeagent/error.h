#pragma once
// The project's one error shape. Every expected failure - a host file that does not parse, a
// root that cannot be opened, an agent that is unreachable or answers nonsense, a flag value that
// makes no sense - is returned as Result<T>, whose error is an Error: a code saying what kind of
// failure it is, and a detail saying what was tried or found. Exceptions are for start-up
// configuration only, caught at one boundary (see docs/architecture.md, "Errors").
//
//   Result<LoadAvg> r = parse_loadavg(text);
//   if (!r) return Error{Errc::kMalformed, "loadavg: " + r.error().detail};
//   if (r.error().code == client::ErrorCode::kTimeout) ...   // compare the code with its enum
//
// The code is a boost::system::error_code, so errno values, Asio's errors and the project's own
// enums (Errc below, client::ErrorCode, nodeinfo::HostFsError, http::AddressError) all fit, and
// each enum compares with it directly.
// Thread-safety: plain value types; no shared state.

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "nodeagent/printable.h"

namespace nodeagent {

// Kinds of failure that are neither an errno nor a library's own code.
enum class Errc {
  kMalformed = 1,  // input that does not parse: a host file, a flag or list value, a page input
  kUnavailable,    // a reading that is not there (yet): no sample, a source that failed
  kDenied,         // refused by policy or by the kernel's permission checks
};
const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(Errc e) noexcept;

struct Error {
  boost::system::error_code code;  // what kind of failure
  std::string detail{};            // what was tried or found, e.g. "127.0.0.1:11559" or
                                   // "line 3: expected 10 cpu fields, got 4"
  unsigned http_status = 0;        // the answer's status, for client::ErrorCode::kBadStatus

  // One line for humans: "<what kind>[ <status>]: <detail>", e.g.
  // "connection refused: 127.0.0.1:11559". The detail goes through printable(), so the message
  // is safe to print even when it quotes a hostile file or agent.
  std::string message() const;
};

// Result<T>::value() on an error throws std::runtime_error(message()); prefer checking has_value.
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;

namespace client {

// What went wrong talking to an agent.
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
const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(ErrorCode e) noexcept;

// Stable lower-case name, e.g. "connection refused"; the category's message() too.
std::string_view to_string(ErrorCode code);

using nodeagent::Error;
using nodeagent::Result;

}  // namespace client
}  // namespace nodeagent

template <>
struct boost::system::is_error_code_enum<nodeagent::Errc> : std::true_type {};
template <>
struct boost::system::is_error_code_enum<nodeagent::client::ErrorCode> : std::true_type {};
