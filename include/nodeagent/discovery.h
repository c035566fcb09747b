#pragma once
// Finding the node agent that runs on *this* node.
//
// Order (first match wins):
//   1. an explicit URL (a --url flag, a config value);
//   2. the NODE_AGENT_URL environment variable, after kubelet-style `$(VAR)` expansion;
//   3. http://$NODE_IP:11559 when NODE_IP is set (the hostPort / hostNetwork deployments);
//   otherwise ErrorCode::kNoAgentConfigured.
// Supported URLs: `http://host[:port][/prefix]` (host: DNS name, IPv4, [IPv6]; port default 80) and
// `unix:///absolute/path/to.sock`.
// Thread-safety: pure functions; discover() reads the environment through the lookup it is given.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::client {

// The port the hostPort and hostNetwork manifests publish the agent on.
inline constexpr std::string_view kDefaultAgentPort = "11559";

enum class Transport { kTcp, kUnix };

struct Endpoint {
  Transport transport = Transport::kTcp;
  std::string host;         // kTcp: DNS name or IP literal, without IPv6 brackets
  std::string port;         // kTcp: decimal, "80" when the URL has none
  std::string socket_path;  // kUnix
  std::string prefix;       // path the agent's routes hang below, "" or "/x/y" (no trailing '/')
  std::string url;          // normalised form, for messages

  // "host:port" ("[::1]:80") or the socket path: names the peer in error messages.
  std::string peer() const;
  // Value for the Host header.
  std::string host_header() const;
};

Result<Endpoint> parse_url(std::string_view url);

// Looks up an environment variable; nullopt when it is not set (set-but-empty is "").
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// The process environment (getenv). Not thread-safe against concurrent setenv, like getenv.
EnvLookup process_env();

// Kubelet semantics for `$(VAR)` in env values and args: a defined variable is replaced by its
// value, an undefined one stays literally `$(VAR)`, `$$` is an escaped `$` (so `$$(VAR)` gives
// `$(VAR)`), and any other `$` (unterminated `$(X`, `$X`) is kept as is.
std::string expand_vars(std::string_view input, const EnvLookup& env);

enum class DiscoverySource { kExplicit, kNodeAgentUrl, kNodeIp };
std::string_view to_string(DiscoverySource source);  // "explicit", "NODE_AGENT_URL", "NODE_IP"

struct Discovery {
  DiscoverySource source = DiscoverySource::kExplicit;
  std::string raw;  // the value as configured, before expansion
  Endpoint endpoint;

  // e.g. "NODE_AGENT_URL=http://$(NODE_IP):11559 -> http://10.0.0.7:11559"
  std::string describe() const;
};

// An empty explicit_url counts as not given. Errors: kNoAgentConfigured, kInvalidUrl (the detail
// names the source, so a typo in the manifest is easy to spot).
Result<Discovery> discover(std::optional<std::string_view> explicit_url,
                           const EnvLookup& env = process_env());

}  // namespace nodeagent::client
