#include "http/listen_address.h"

#include <gtest/gtest.h>

#include <string>

namespace nodeagent::http {
namespace {

struct Valid {
  std::string_view text;
  ListenAddress::Kind kind;
  std::string_view host;
  std::uint16_t port;
  std::string_view path;
  std::string_view canonical;
};

TEST(ParseListenAddress, AcceptsTheDocumentedForms) {
  using K = ListenAddress::Kind;
  const Valid cases[] = {
      {":80", K::kTcp, "", 80, "", ":80"},
      {":0", K::kTcp, "", 0, "", ":0"},
      {"0.0.0.0:80", K::kTcp, "0.0.0.0", 80, "", "0.0.0.0:80"},
      {"127.0.0.1:0", K::kTcp, "127.0.0.1", 0, "", "127.0.0.1:0"},
      {"10.1.2.3:65535", K::kTcp, "10.1.2.3", 65535, "", "10.1.2.3:65535"},
      {"[::]:11559", K::kTcp, "::", 11559, "", "[::]:11559"},
      {"[::1]:8080", K::kTcp, "::1", 8080, "", "[::1]:8080"},
      {"[fd00::1:2]:80", K::kTcp, "fd00::1:2", 80, "", "[fd00::1:2]:80"},
      {"localhost:8080", K::kTcp, "localhost", 8080, "", "localhost:8080"},
      {"LocalHost:8080", K::kTcp, "localhost", 8080, "", "localhost:8080"},
      {"unix:///run/node-agent/agent.sock", K::kUnix, "", 0, "/run/node-agent/agent.sock",
       "unix:///run/node-agent/agent.sock"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    auto r = parse_listen_address(c.text);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->kind, c.kind);
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->port, c.port);
    EXPECT_EQ(r->path, c.path);
    EXPECT_EQ(to_string(*r), c.canonical);
    EXPECT_EQ(r->is_any_host(), c.kind == K::kTcp && c.host.empty());
    auto again = parse_listen_address(to_string(*r));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *r);
  }
}

std::string test_path_too_long() {
  std::string s = "unix:///";
  s.append(200, 'a');
  return s;
}

struct Invalid {
  std::string text;
  AddressError error;
  std::string_view message_part;
};

TEST(ParseListenAddress, RejectsWithAOneLineReason) {
  const Invalid cases[] = {
      {"", AddressError::kEmpty, "empty"},
      {"80", AddressError::kMissingPort, "missing port"},
      {"127.0.0.1", AddressError::kMissingPort, "missing port"},
      {":", AddressError::kMissingPort, "missing port"},
      {"127.0.0.1:", AddressError::kMissingPort, "missing port"},
      {":65536", AddressError::kPortOutOfRange, "port out of range"},
      {":99999999999999999999999", AddressError::kPortOutOfRange, "port out of range"},
      {":http", AddressError::kBadPort, "not a number"},
      {":-1", AddressError::kBadPort, "not a number"},
      {":+80", AddressError::kBadPort, "not a number"},
      {":8 0", AddressError::kBadPort, "not a number"},
      {"example.com:80", AddressError::kHostnameNotNumeric, "numeric"},
      {"node-agent:80", AddressError::kHostnameNotNumeric, "hostnames are not supported"},
      {"999.1.1.1:80", AddressError::kBadIpv4, "invalid IPv4"},
      {"1.2.3:80", AddressError::kBadIpv4, "invalid IPv4"},
      {"[::1", AddressError::kMissingBracket, "']'"},
      {"[::1]", AddressError::kMissingPort, "missing port"},
      {"[::1]8080", AddressError::kMissingPort, "missing port"},
      {"[]:80", AddressError::kBadIpv6, "invalid IPv6"},
      {"[zz::1]:80", AddressError::kBadIpv6, "invalid IPv6"},
      {"[127.0.0.1]:80", AddressError::kBadIpv6, "invalid IPv6"},
      {"::1:8080", AddressError::kUnbracketedIpv6, "brackets"},
      {"http://127.0.0.1:80", AddressError::kUnsupportedScheme, "unsupported scheme"},
      {"unix://", AddressError::kMissingUnixPath, "missing unix socket path"},
      {"unix://run/agent.sock", AddressError::kRelativeUnixPath, "absolute"},
      {test_path_too_long(), AddressError::kUnixPathTooLong, "too long"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = parse_listen_address(c.text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(c.error));
    std::string message = r.error().message();
    EXPECT_NE(message.find(c.message_part), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace nodeagent::http
