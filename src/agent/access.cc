#include "agent/access.h"

#include <algorithm>
#include <boost/system/error_code.hpp>
#include <cstdint>

namespace nodeagent::agent {
namespace ip = boost::asio::ip;
namespace {

Error bad(std::string_view cidr, std::string_view example) {
  return Error{
      Errc::kMalformed,
      "\"" + std::string(cidr) + "\" is not an IPv4 or IPv6 network like " + std::string(example)};
}

}  // namespace

Result<void> AccessList::add(std::string_view cidr) {
  std::string text(cidr);
  if (text.find('/') == std::string::npos) {
    text += text.find(':') == std::string::npos ? "/32" : "/128";
  }
  boost::system::error_code ec;
  if (text.find(':') == std::string::npos) {
    ip::network_v4 net = ip::make_network_v4(text, ec);
    if (ec) return bad(cidr, "10.0.0.0/8");
    if (net.address() != net.network()) {
      masked_.push_back({std::string(cidr), net.canonical().to_string()});
    }
    v4_.push_back(net.canonical());
  } else {
    ip::network_v6 net = ip::make_network_v6(text, ec);
    if (ec) return bad(cidr, "fd00::/8");
    if (net.address() != net.network()) {
      masked_.push_back({std::string(cidr), net.canonical().to_string()});
    }
    v6_.push_back(net.canonical());
  }
  return {};
}

bool AccessList::allows(const ip::address& client) const {
  if (empty()) return true;
  ip::address addr = client;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = ip::make_address_v4(ip::v4_mapped, addr.to_v6());
  }
  if (addr.is_v4()) {
    const std::uint32_t host = addr.to_v4().to_uint();
    for (const auto& net : v4_) {
      const unsigned prefix = net.prefix_length();
      const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
      if ((host & mask) == net.network().to_uint()) return true;
    }
    return false;
  }
  const auto host = addr.to_v6().to_bytes();
  for (const auto& net : v6_) {
    const auto network = net.network().to_bytes();
    unsigned bits = net.prefix_length();
    bool match = true;
    for (std::size_t i = 0; i < host.size() && bits > 0 && match; ++i, bits -= std::min(bits, 8u)) {
      const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
      match = (host[i] & mask) == (network[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::vector<std::string> AccessList::rules() const {
  std::vector<std::string> out;
  for (const auto& net : v4_) out.push_back(net.to_string());
  for (const auto& net : v6_) out.push_back(net.to_string());
  return out;
}

}  // namespace nodeagent::agent
