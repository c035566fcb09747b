#include "kiada/pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "http/header_value.h"
#include "nodeagent/printable.h"

namespace nodeagent::kiada {

std::string node_info_text(const client::Result<std::string>& node_info) {
  if (node_info) return client::printable(*node_info);
  return "ERROR: " + client::printable(node_info.error().message());
}

std::string render_text(const PageInput& in) {
  return fmt::format(
      "Kiada {0}\n"
      "Request processed by Kiada {0} running in pod \"{1}\" on node \"{2}\".\n"
      "Pod hostname: {3}; Pod IP: {4}; Node IP: {5}; Client IP: {6}\n"
      "Node info: {7}\n"
      "Status message: {8}\n",
      kVersion, in.pod.pod_name, in.pod.node_name, in.pod.pod_hostname, in.pod.pod_ip,
      in.pod.node_ip, in.client_ip, node_info_text(in.node_info),
      in.status_message.empty() ? "(none)" : in.status_message);
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_html(const PageInput& in, std::string_view tpl) {
  auto value = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "pod_name") return in.pod.pod_name;
    if (name == "node_name") return in.pod.node_name;
    if (name == "pod_hostname") return in.pod.pod_hostname;
    if (name == "pod_ip") return in.pod.pod_ip;
    if (name == "node_ip") return in.pod.node_ip;
    if (name == "client_ip") return in.client_ip;
    if (name == "node_info") return node_info_text(in.node_info);
    if (name == "node_info_class") return in.node_info ? "ok" : "error";
    if (name == "agent_source") return in.agent_source;
    if (name == "status_message") {
      return in.status_message.empty() ? std::string("(none)") : in.status_message;
    }
    return std::nullopt;
  };
  std::string out;
  out.reserve(tpl.size() + 512);
  std::size_t pos = 0;
  while (pos < tpl.size()) {
    std::size_t open = tpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    std::size_t close = tpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(tpl.substr(pos, open - pos));
    std::string_view name = tpl.substr(open + 2, close - open - 2);
    if (auto v = value(name)) {
      out += html_escape(*v);
    } else {
      out.append(tpl.substr(open, close + 2 - open));
    }
    pos = close + 2;
  }
  out.append(tpl.substr(pos));
  return out;
}

bool wants_html(std::string_view accept) {
  int html = std::max(http::accept_quality(accept, "text/html"),
                      http::accept_quality(accept, "application/xhtml+xml"));
  return html > http::accept_quality(accept, "text/plain");
}

}  // namespace nodeagent::kiada
