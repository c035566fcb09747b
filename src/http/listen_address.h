#pragma once
// Where a Server listens: a TCP host:port or a unix socket path. Plain value type; the parser is
// pure and thread-safe.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace nodeagent::http {

struct ListenAddress {
  enum class Kind { kTcp, kUnix };
  Kind kind = Kind::kTcp;
  // kTcp: a numeric IPv4 or IPv6 address (IPv6 without brackets) or "localhost" (binds
  // 127.0.0.1). Empty means every address of the host (":80"): dual-stack [::] with
  // IPV6_V6ONLY off when the host has IPv6, else 0.0.0.0.
  std::string host;
  std::uint16_t port = 0;  // kTcp; 0 lets the kernel pick (see Server::bound_addresses)
  std::string path;        // kUnix: absolute path of the socket file

  bool is_unix() const { return kind == Kind::kUnix; }
  bool is_any_host() const { return kind == Kind::kTcp && host.empty(); }
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Accepts ":80", "host:port", "0.0.0.0:80", "127.0.0.1:0", "localhost:8080", "[::]:11559",
// "[::1]:8080" and "unix:///run/node-agent/agent.sock". Hostnames other than localhost are
// rejected (no DNS at start-up). The error's message() is a one-line reason, e.g.
// "port out of range (0-65535)".
boost::system::result<ListenAddress> parse_listen_address(std::string_view text);

// Inverse of parse_listen_address: ":80", "127.0.0.1:80", "[::1]:80", "unix:///path".
std::string to_string(const ListenAddress& address);

// Reasons parse_listen_address and Server::listen() give for rejecting an address.
enum class AddressError {
  kEmpty = 1,
  kMissingPort,
  kBadPort,
  kPortOutOfRange,
  kHostnameNotNumeric,
  kBadIpv4,
  kBadIpv6,
  kMissingBracket,
  kUnbracketedIpv6,
  kUnsupportedScheme,
  kMissingUnixPath,
  kRelativeUnixPath,
  kUnixPathTooLong,
  kNotASocket,
  kSocketInUse,
};
const boost::system::error_category& address_error_category();
boost::system::error_code make_error_code(AddressError e);

}  // namespace nodeagent::http

template <>
struct boost::system::is_error_code_enum<nodeagent::http::AddressError> : std::true_type {};
