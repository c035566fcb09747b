#include "nodeagent/error.h"

#include <stdexcept>

namespace nodeagent {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories
// are never deleted through a base pointer), which -Wnon-virtual-dtor cannot know.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "nodeagent"; }
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::kMalformed:
        return "malformed";
      case Errc::kUnavailable:
        return "unavailable";
      case Errc::kDenied:
        return "denied";
    }
    return "unknown error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

std::string Error::message() const {
  std::string out = code ? code.message() : std::string("error");
  if (http_status != 0) {
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

}  // namespace nodeagent
