#include "nodeagent/error.h"

namespace nodeagent::client {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"  // see src/error/error.cc
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "nodeagent.client"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<ErrorCode>(value)));
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

boost::system::error_code make_error_code(ErrorCode e) noexcept {
  return {static_cast<int>(e), error_category()};
}

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

}  // namespace nodeagent::client
