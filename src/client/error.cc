#include "nodeagent/error.h"

#include <stdexcept>

namespace nodeagent::client {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNoAgentConfigured:
      return "no agent configured";
    case ErrorCode::kInvalidUrl:
      return "invalid agent URL";
    case ErrorCode::kResolveFailed:
      return "cannot resolve agent host";
    case ErrorCode::kConnectionRefused:
      return "connection refused";
    case ErrorCode::kConnectFailed:
      return "cannot connect";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kConnectionClosed:
      return "connection closed by agent";
    case ErrorCode::kProtocol:
      return "protocol error";
    case ErrorCode::kBadStatus:
      return "bad status";
    case ErrorCode::kBodyTooLarge:
      return "response too large";
    case ErrorCode::kUnparsableBody:
      return "unparsable response";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kWrongNode:
      return "wrong node";
  }
  return "unknown error";
}

std::string Error::message() const {
  std::string out(to_string(code));
  if (code == ErrorCode::kBadStatus && http_status != 0) {
    out += ' ';
    out += std::to_string(http_status);
  }
  if (!detail.empty()) {
    out += ": ";
    out += printable(detail);
  }
  return out;
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.message());
}

}  // namespace nodeagent::client
