#include "agent/self_report.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <string>

#include "log/log.h"
#include "nodeagent/error.h"

#ifndef PROJECT_VERSION
#define PROJECT_VERSION "unknown"
#endif

namespace nodeagent::agent {
namespace {

boost::json::array string_array(const std::vector<std::string>& items) {
  boost::json::array out;
  out.reserve(items.size());
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

boost::json::array names(std::uint64_t mask) { return string_array(capability_names(mask)); }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out.empty() ? "none" : out;
}

}  // namespace

std::string_view sharing_name(Sharing s) {
  switch (s) {
    case Sharing::kShared:
      return "shared";
    case Sharing::kSeparate:
      return "separate";
    case Sharing::kUnknown:
      break;
  }
  return "unknown";
}

Sharing compare_inodes(const Result<std::uint64_t>& own, const Result<std::uint64_t>& host) {
  if (!own || !host) return Sharing::kUnknown;
  return *own == *host ? Sharing::kShared : Sharing::kSeparate;
}

HostNamespaces compare_host_namespaces(const nodeinfo::HostRoot& procfs,
                                       const Result<nodeinfo::HostRoot>& self) {
  HostNamespaces out;
  for (std::size_t i = 0; i < kNamespaceTypes.size(); ++i) {
    const std::string type(kNamespaceTypes[i]);
    Result<std::uint64_t> own = Error{Errc::kUnavailable, "no /proc/self"};
    if (self) own = self->inode("ns/" + type);
    // Without our own /proc mounted, the host's procfs still resolves "self" to this process.
    if (!own) own = procfs.inode("self/ns/" + type);
    out.sharing[i] = compare_inodes(own, procfs.inode("1/ns/" + type));
  }
  // PID 1's links may be unreadable even for root (an undumpable init). For the PID namespace
  // there is a check that needs no access to PID 1: the procfs's "self" is this process's
  // directory under the pid it has in that procfs's namespace, which is getpid() only when the
  // agent lives in that same namespace.
  if (out.sharing[1] == Sharing::kUnknown) {
    auto host_self = procfs.inode("self");
    if (host_self) {
      out.sharing[1] = compare_inodes(host_self, procfs.inode(std::to_string(::getpid())));
    }
  }
  return out;
}

SelfReport make_self_report(const Config& config, const PrivilegeChange& change,
                            const HostNamespaces& namespaces, std::vector<std::string> bound) {
  SelfReport r;
  r.version = PROJECT_VERSION;
  r.identity = change.after;
  r.started_as = change.before;
  r.switched_user = change.switched_user;
  r.capabilities = change.caps_after;
  r.bounding_cleared = change.bounding_cleared;
  r.no_new_privs = change.no_new_privs;
  r.namespaces = namespaces;
  r.procfs = config.procfs.string();
  r.sysfs = config.sysfs.string();
  r.listen = std::move(bound);
  r.allow_cidr = config.access.rules();
  r.interval_seconds = std::chrono::duration<double>(config.interval).count();
  r.max_connections = config.max_connections;
  return r;
}

std::string render_self_report(const SelfReport& r) {
  boost::json::object caps;
  caps["effective"] = names(r.capabilities.effective);
  caps["permitted"] = names(r.capabilities.permitted);
  caps["inheritable"] = names(r.capabilities.inheritable);
  caps["ambient"] = names(r.capabilities.ambient);
  caps["bounding"] = names(r.capabilities.bounding);

  boost::json::object ns;
  for (std::size_t i = 0; i < kNamespaceTypes.size(); ++i) {
    ns[kNamespaceTypes[i]] = sharing_name(r.namespaces.sharing[i]);
  }

  boost::json::array groups;
  for (gid_t g : r.identity.groups) groups.emplace_back(g);

  boost::json::object access;
  access["allow_cidr"] = string_array(r.allow_cidr);
  access["default"] = r.allow_cidr.empty() ? "allow" : "deny";

  boost::json::object out;
  out["version"] = r.version;
  out["uid"] = r.identity.euid;
  out["gid"] = r.identity.egid;
  out["groups"] = std::move(groups);
  out["started_as"] = {{"uid", r.started_as.euid}, {"gid", r.started_as.egid}};
  out["switched_user"] = r.switched_user;
  out["capabilities"] = std::move(caps);
  out["no_new_privs"] = r.no_new_privs;
  out["host_namespaces"] = std::move(ns);
  out["roots"] = {{"procfs", r.procfs}, {"sysfs", r.sysfs}};
  out["listen"] = string_array(r.listen);
  out["access"] = std::move(access);
  // Boost.JSON prints every double in exponent form (1E0); whole seconds go out as integers.
  if (r.interval_seconds == static_cast<double>(static_cast<std::int64_t>(r.interval_seconds))) {
    out["interval_seconds"] = static_cast<std::int64_t>(r.interval_seconds);
  } else {
    out["interval_seconds"] = r.interval_seconds;
  }
  out["max_connections"] = r.max_connections;
  std::string body = boost::json::serialize(out);
  body += '\n';
  return body;
}

void log_privilege_change(const PrivilegeChange& c) {
  const std::uint64_t held = c.caps_before.effective | c.caps_before.permitted |
                             c.caps_before.inheritable | c.caps_before.ambient;
  log::info("dropped privileges", {{"uid_before", static_cast<std::uint64_t>(c.before.euid)},
                                   {"uid_after", static_cast<std::uint64_t>(c.after.euid)},
                                   {"gid_after", static_cast<std::uint64_t>(c.after.egid)},
                                   {"switched_user", c.switched_user},
                                   {"caps_dropped", join(capability_names(held))},
                                   {"bounding_cleared", c.bounding_cleared},
                                   {"no_new_privs", c.no_new_privs}});
}

bool needs_low_port(const std::vector<http::ListenAddress>& listen) {
  for (const auto& a : listen) {
    if (!a.is_unix() && a.port != 0 && a.port < 1024) return true;
  }
  return false;
}

}  // namespace nodeagent::agent
