#include "nodeagent/discovery.h"

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace nodeagent::client {
namespace {

Error invalid(std::string detail) { return Error{ErrorCode::kInvalidUrl, std::move(detail), 0}; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Letters, digits, '-', '_' and '.' (Kubernetes Service names are a subset).
bool is_dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string Endpoint::peer() const {
  if (transport == Transport::kUnix) return socket_path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

std::string Endpoint::host_header() const {
  if (transport == Transport::kUnix) return "localhost";
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == "80" ? h : h + ":" + port;
}

Result<Endpoint> parse_url(std::string_view url) {
  std::string quoted = fmt::format("\"{}\"", url);
  if (url.empty()) return invalid("empty URL");
  if (url.find("://") == std::string_view::npos) {
    return invalid(quoted + " is not an absolute URL: write e.g. http://" + std::string(url));
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed)
    return invalid(quoted + " is not an absolute URL (" + parsed.error().message() + ")");
  const boost::urls::url_view& u = *parsed;
  if (u.has_userinfo()) return invalid(quoted + ": user info is not supported");
  if (u.has_query() || u.has_fragment()) return invalid(quoted + ": query/fragment not supported");
  Endpoint ep;
  std::string scheme = u.scheme();
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "unix") {
    // unix:///run/agent.sock: empty authority, absolute path; the decoded path is the socket.
    if (!u.has_authority() || !u.encoded_host().empty() || u.has_port()) {
      return invalid(quoted + ": write unix sockets as unix:///absolute/path.sock");
    }
    std::string path = u.path();
    if (path.empty() || path.front() != '/' || path == "/") {
      return invalid(quoted + ": unix socket path must be absolute");
    }
    ep.transport = Transport::kUnix;
    ep.socket_path = path;
    ep.url = "unix://" + path;
    return ep;
  }
  if (scheme != "http") {
    return invalid(quoted + ": unsupported scheme \"" + scheme + "\" (use http:// or unix://)");
  }
  if (!u.has_authority() || u.encoded_host().empty()) return invalid(quoted + ": missing host");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      ep.host = u.host_address();
      break;
    case boost::urls::host_type::ipvfuture:
      return invalid(quoted + ": unsupported host");
    default:
      ep.host = u.host();
      break;
  }
  if (u.host_type() == boost::urls::host_type::name && !is_dns_name(ep.host)) {
    std::string why = quoted + ": host \"" + ep.host + "\" is not a DNS name or IP address";
    if (ep.host.find("$(") != std::string::npos) why += " (unset variable?)";
    return invalid(why);
  }
  // Boost.URL 1.81 accepts "http://h:8x" as port 8 and path "x"; a path must start with '/'.
  if (!u.encoded_path().empty() && u.encoded_path().front() != '/') {
    return invalid(quoted + ": bad port");
  }
  if (u.has_port()) {
    std::string port = u.port();
    unsigned number = 0;
    const char* end = port.data() + port.size();
    auto [stop, ec] = std::from_chars(port.data(), end, number);
    if (!all_digits(port) || port.size() > 5 || ec != std::errc{} || stop != end || number == 0 ||
        number > 65535) {
      return invalid(quoted + ": bad port \"" + port + "\"");
    }
    ep.port = std::to_string(number);
  } else {
    ep.port = "80";
  }
  std::string prefix(u.encoded_path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  ep.prefix = prefix;
  ep.url = "http://" + ep.host_header() + prefix;
  return ep;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

// Mirrors k8s.io/kubernetes third_party/forked/golang/expansion.Expand.
std::string expand_vars(std::string_view input, const EnvLookup& env) {
  std::string out;
  out.reserve(input.size());
  std::size_t i = 0;
  while (i < input.size()) {
    char c = input[i];
    if (c != '$' || i + 1 >= input.size()) {
      out += c;
      ++i;
      continue;
    }
    char next = input[i + 1];
    if (next == '$') {  // escaped operator
      out += '$';
      i += 2;
      continue;
    }
    if (next == '(') {
      std::size_t close = input.find(')', i + 2);
      if (close == std::string_view::npos) {  // incomplete reference: keep "$(" literally
        out += "$(";
        i += 2;
        continue;
      }
      std::string_view name = input.substr(i + 2, close - i - 2);
      auto value = env ? env(name) : std::nullopt;
      if (value) {
        out += *value;
      } else {
        out += "$(";
        out += name;
        out += ')';
      }
      i = close + 1;
      continue;
    }
    out += '$';  // not an expression: the '$' and the next char are literal
    out += next;
    i += 2;
  }
  return out;
}

std::string_view to_string(DiscoverySource source) {
  switch (source) {
    case DiscoverySource::kExplicit:
      return "explicit";
    case DiscoverySource::kNodeAgentUrl:
      return "NODE_AGENT_URL";
    case DiscoverySource::kNodeIp:
      return "NODE_IP";
  }
  return "unknown";
}

std::string Discovery::describe() const {
  std::string out(to_string(source));
  switch (source) {
    case DiscoverySource::kExplicit:
      out = "--url " + raw;
      break;
    case DiscoverySource::kNodeAgentUrl:
      out += "=" + raw;
      break;
    case DiscoverySource::kNodeIp:
      out += "=" + raw;
      break;
  }
  if (raw != endpoint.url) out += " -> " + endpoint.url;
  return out;
}

Result<Discovery> discover(std::optional<std::string_view> explicit_url, const EnvLookup& env) {
  Discovery d;
  std::string url;
  if (explicit_url && !explicit_url->empty()) {
    d.source = DiscoverySource::kExplicit;
    d.raw = std::string(*explicit_url);
    url = d.raw;
  } else if (auto v = env ? env("NODE_AGENT_URL") : std::nullopt; v && !v->empty()) {
    d.source = DiscoverySource::kNodeAgentUrl;
    d.raw = *v;
    url = expand_vars(*v, env);
  } else if (auto ip = env ? env("NODE_IP") : std::nullopt; ip && !ip->empty()) {
    d.source = DiscoverySource::kNodeIp;
    d.raw = *ip;
    bool v6 = ip->find(':') != std::string::npos && ip->front() != '[';
    url = "http://" + (v6 ? "[" + *ip + "]" : *ip) + ":" + std::string(kDefaultAgentPort);
  } else {
    return Error{ErrorCode::kNoAgentConfigured,
                 "set NODE_AGENT_URL (http://host:port or unix:///path) or NODE_IP", 0};
  }
  auto ep = parse_url(url);
  if (!ep) {
    Error e = ep.error();
    e.detail = std::string(to_string(d.source)) + ": " + e.detail;
    return e;
  }
  d.endpoint = std::move(*ep);
  return d;
}

}  // namespace nodeagent::client
