#pragma once
// Client access control (--allow-cidr). Thread-safety: immutable after construction; allows() may
// be called from every event loop at once.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "nodeagent/error.h"

namespace nodeagent::agent {

class AccessList {
 public:
  // Accepts "10.0.0.0/8", "192.168.1.7" (a /32), "fd00::/8", "::1". Anything else is
  // Errc::kMalformed, the detail saying why, e.g. "\"banana\" is not an IPv4 or IPv6 network like
  // 10.0.0.0/8"; the list is then unchanged.
  Result<void> add(std::string_view cidr);

  // No rules: everyone is allowed. IPv4-mapped IPv6 clients (dual-stack sockets) match IPv4 rules.
  bool allows(const boost::asio::ip::address& client) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }
  std::vector<std::string> rules() const;  // canonical form, for logs and /v1/agent

  // A rule given with host bits set ("127.0.0.5/8"), which add() masked ("127.0.0.0/8"): worth a
  // warning at start, since the writer may have meant a single host.
  struct Masked {
    std::string given;
    std::string effective;
  };
  const std::vector<Masked>& masked() const { return masked_; }

 private:
  std::vector<Masked> masked_;
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace nodeagent::agent
