#pragma once
// Kiada's pages as pure functions of what one request needs, so they are tested without sockets.
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::kiada {

inline constexpr std::string_view kVersion = "0.9";

// Facts about this pod, read once at start-up (Downward API environment in Kubernetes).
struct PodInfo {
  std::string pod_name;      // POD_NAME, else the hostname
  std::string node_name;     // NODE_NAME, else the hostname (outside Kubernetes: same machine)
  std::string pod_hostname;  // gethostname()
  std::string pod_ip;        // POD_IP, else "unknown"
  std::string node_ip;       // NODE_IP, else "unknown"
};

struct PageInput {
  PodInfo pod;
  std::string client_ip;
  // The agent's text line, or why there is none (see NodeInfoFetcher).
  client::Result<std::string> node_info;
  std::string agent_source;  // how the agent was found, e.g. "NODE_AGENT_URL=http://..."
  std::string status_message;
};

// The text page, one fact per line:
//   Request processed by Kiada 0.9 running in pod "P" on node "N".
//   Pod hostname: H; Pod IP: A; Node IP: B; Client IP: C
//   Node info: <agent line or ERROR: cause>
std::string render_text(const PageInput& in);

// What follows "Node info: " on every page: the agent's line, or "ERROR: <cause>" (the cause
// names both nodes when another node's agent answered). Agent text goes through printable().
std::string node_info_text(const client::Result<std::string>& node_info);

// Fills the {{name}} placeholders of the embedded index.html, HTML-escaping every value.
// Unknown placeholders are left as they are (a test catches them).
std::string render_html(const PageInput& in, std::string_view html_template);

std::string html_escape(std::string_view s);

// True when a browser asks: `Accept` ranks text/html (or XHTML) strictly above text/plain.
// curl's "*/*", an absent header and a tie get the plain-text page.
bool wants_html(std::string_view accept);

}  // namespace nodeagent::kiada
