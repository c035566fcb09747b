#pragma once
// What a Handler sees of one HTTP request. Every string_view points into the connection's
// buffers and is valid only during the handler call: copy what you keep.

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace nodeagent::http {

struct RemoteAddress {
  // Client IP; IPv4-mapped IPv6 peers of a dual-stack socket are reported as IPv4.
  // nullopt: the client came over a unix socket.
  std::optional<boost::asio::ip::address> ip;
  std::uint16_t port = 0;

  bool is_unix() const { return !ip.has_value(); }
  std::string to_string() const;  // "127.0.0.1:50000", "[::1]:50000" or "unix"
};

struct HeaderField {
  std::string_view name;  // as sent by the client
  std::string_view value;
};

struct Request {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string_view method_string;  // as sent, also for methods Beast does not know
  std::string_view target;         // request-target as sent, e.g. "/v1/node?x=1"
  std::string_view accept;         // Accept header or empty
  std::string_view user_agent;     // User-Agent header or empty
  std::string_view host;           // Host header or empty
  RemoteAddress remote;
  bool keep_alive = true;  // the client wants the connection kept (HTTP/1.1 default)
  unsigned version = 11;   // 10 or 11
  bool has_body = false;   // Content-Length > 0 or chunked; the server never reads bodies
  std::span<const HeaderField> headers;  // every field, in arrival order

  // First field with this name (ASCII case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

}  // namespace nodeagent::http
