#pragma once
// GET /v1/agent: what the agent can do on its host, so an operator can check a deployment grants
// no more than intended (docs/security.md explains every field). Built once after start-up, when
// the sockets are bound and privileges dropped; nothing in it changes afterwards.
//
// Thread-safety: every function here is pure or only reads the calling process's own state.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"
#include "agent/privileges.h"
#include "nodeinfo/host_fs.h"

namespace nodeagent::agent {

// Whether the agent shares one namespace type with the host's PID 1 (under --procfs).
enum class Sharing : std::uint8_t { kUnknown, kShared, kSeparate };
std::string_view sharing_name(Sharing s);  // "unknown", "shared", "separate"

// Unknown unless both inodes were read.
Sharing compare_inodes(const Result<std::uint64_t>& own, const Result<std::uint64_t>& host);

// Order matters: HostNamespaces::sharing is indexed like this.
inline constexpr std::array<std::string_view, 4> kNamespaceTypes{"net", "pid", "ipc", "uts"};

struct HostNamespaces {
  std::array<Sharing, kNamespaceTypes.size()> sharing{};  // in kNamespaceTypes order
};

// Compares ns/<type> below `self` (the agent's own /proc/self, see open_self_proc()) with
// 1/ns/<type> below `procfs` (the host's --procfs root). Reading PID 1's links needs ptrace-read
// access to it, so call this before dropping privileges. Without `self` (no /proc of our own),
// the host's procfs's "self/ns/<type>" stands in. When PID 1's links are unreadable the PID
// namespace is still decided from <procfs>/self; the others stay unknown.
HostNamespaces compare_host_namespaces(const nodeinfo::HostRoot& procfs,
                                       const Result<nodeinfo::HostRoot>& self);

struct SelfReport {
  std::string version;
  Identity identity;    // after dropping privileges
  Identity started_as;  // before
  bool switched_user = false;
  CapabilitySets capabilities;  // after dropping privileges
  bool bounding_cleared = false;
  bool no_new_privs = false;
  HostNamespaces namespaces;
  std::string procfs;
  std::string sysfs;
  std::vector<std::string> listen;      // addresses actually bound
  std::vector<std::string> allow_cidr;  // empty: every client is served
  double interval_seconds = 0;
  std::uint64_t max_connections = 0;
};

SelfReport make_self_report(const Config& config, const PrivilegeChange& change,
                            const HostNamespaces& namespaces, std::vector<std::string> bound);

// The JSON body (one object, trailing newline).
std::string render_self_report(const SelfReport& report);

// The single start-up log line saying what drop_privileges() did.
void log_privilege_change(const PrivilegeChange& change);

// True when some TCP address needs a port below 1024 (port 0 lets the kernel choose above it).
bool needs_low_port(const std::vector<http::ListenAddress>& listen);

}  // namespace nodeagent::agent
