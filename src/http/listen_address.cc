#include "http/listen_address.h"

#include <sys/un.h>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <charconv>

#include "http/header_value.h"

namespace nodeagent::http {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design (categories
// are never deleted through the base); silence the project-wide -Wnon-virtual-dtor for it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class AddressErrorCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "nodeagent.http.address"; }
  std::string message(int ev) const override {
    switch (static_cast<AddressError>(ev)) {
      case AddressError::kEmpty:
        return "empty listen address";
      case AddressError::kMissingPort:
        return "missing port (use host:port or :port)";
      case AddressError::kBadPort:
        return "port is not a number";
      case AddressError::kPortOutOfRange:
        return "port out of range (0-65535)";
      case AddressError::kHostnameNotNumeric:
        return "hostnames are not supported, use a numeric IP address or localhost";
      case AddressError::kBadIpv4:
        return "invalid IPv4 address";
      case AddressError::kBadIpv6:
        return "invalid IPv6 address";
      case AddressError::kMissingBracket:
        return "missing ']' after IPv6 address";
      case AddressError::kUnbracketedIpv6:
        return "IPv6 address must be in brackets, e.g. [::1]:8080";
      case AddressError::kUnsupportedScheme:
        return "unsupported scheme, use host:port or unix:///path";
      case AddressError::kMissingUnixPath:
        return "missing unix socket path";
      case AddressError::kRelativeUnixPath:
        return "unix socket path must be absolute (unix:///path)";
      case AddressError::kUnixPathTooLong:
        return "unix socket path too long";
      case AddressError::kNotASocket:
        return "file exists and is not a socket, refusing to replace it";
      case AddressError::kSocketInUse:
        return "another process is listening on this socket";
    }
    return "invalid listen address";
  }
};
#pragma GCC diagnostic pop

constexpr std::string_view kUnixScheme = "unix://";

bool all_digits_and_dots(std::string_view s) {
  for (char c : s) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

boost::system::result<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty()) return make_error_code(AddressError::kMissingPort);
  for (char c : s) {
    if (c < '0' || c > '9') return make_error_code(AddressError::kBadPort);
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range || value > 65535) {
    return make_error_code(AddressError::kPortOutOfRange);
  }
  if (ec != std::errc() || end != s.data() + s.size()) {
    return make_error_code(AddressError::kBadPort);
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

const boost::system::error_category& address_error_category() {
  static const AddressErrorCategory category;
  return category;
}

boost::system::error_code make_error_code(AddressError e) {
  return {static_cast<int>(e), address_error_category()};
}

boost::system::result<ListenAddress> parse_listen_address(std::string_view text) {
  if (text.empty()) return make_error_code(AddressError::kEmpty);
  ListenAddress out;
  if (text.starts_with(kUnixScheme)) {
    out.kind = ListenAddress::Kind::kUnix;
    out.path = std::string(text.substr(kUnixScheme.size()));
    if (out.path.empty()) return make_error_code(AddressError::kMissingUnixPath);
    if (out.path.front() != '/') return make_error_code(AddressError::kRelativeUnixPath);
    if (out.path.find('\0') != std::string::npos) {
      return make_error_code(AddressError::kMissingUnixPath);
    }
    if (out.path.size() >= sizeof(sockaddr_un::sun_path)) {
      return make_error_code(AddressError::kUnixPathTooLong);
    }
    return out;
  }
  if (text.find("://") != std::string_view::npos) {
    return make_error_code(AddressError::kUnsupportedScheme);
  }

  std::string_view host;
  std::string_view port;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return make_error_code(AddressError::kMissingBracket);
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return make_error_code(AddressError::kMissingPort);
    port = rest.substr(1);
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec || host.empty()) return make_error_code(AddressError::kBadIpv6);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return make_error_code(AddressError::kMissingPort);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return make_error_code(AddressError::kUnbracketedIpv6);
    }
    if (iequals(host, "localhost")) {
      host = "localhost";
    } else if (!host.empty()) {
      boost::system::error_code ec;
      boost::asio::ip::make_address_v4(std::string(host), ec);
      if (ec) {
        return make_error_code(all_digits_and_dots(host) ? AddressError::kBadIpv4
                                                         : AddressError::kHostnameNotNumeric);
      }
    }
  }
  auto p = parse_port(port);
  if (!p) return p.error();
  out.host = std::string(host);
  out.port = *p;
  return out;
}

std::string to_string(const ListenAddress& address) {
  if (address.is_unix()) return std::string(kUnixScheme) + address.path;
  std::string out;
  const bool v6 = address.host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += address.host;
  if (v6) out += ']';
  out += ':';
  out += std::to_string(address.port);
  return out;
}

}  // namespace nodeagent::http
