#include "kiada/pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace nodeagent::kiada {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// A media range's q parameter; 1 when absent or unreadable.
double quality(std::string_view params) {
  while (!params.empty()) {
    auto semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      try {
        return std::stod(std::string(p.substr(2)));
      } catch (const std::exception&) {
        return 1;
      }
    }
  }
  return 1;
}

}  // namespace

std::string render_text(const PageInput& in) {
  return fmt::format(
      "Kiada {0}\n"
      "Request processed by Kiada {0} running in pod \"{1}\" on node \"{2}\".\n"
      "Pod hostname: {3}; Pod IP: {4}; Node IP: {5}; Client IP: {6}\n"
      "Node info: {7}\n"
      "Status message: {8}\n",
      kVersion, in.pod.pod_name, in.pod.node_name, in.pod.pod_hostname, in.pod.pod_ip,
      in.pod.node_ip, in.client_ip, in.node_info,
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
    if (name == "node_info") return in.node_info;
    if (name == "node_info_class") return in.node_info.starts_with("ERROR:") ? "error" : "ok";
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
  double html = 0;
  double plain = 0;
  bool html_first = false;  // breaks a tie in q: the client's own order
  while (!accept.empty()) {
    auto comma = accept.find(',');
    std::string_view range = trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    auto semi = range.find(';');
    std::string_view type = trim(range.substr(0, semi));
    double q = semi == std::string_view::npos ? 1 : quality(range.substr(semi + 1));
    if (iequals(type, "text/html") || iequals(type, "application/xhtml+xml")) {
      if (html == 0 && plain == 0) html_first = true;
      html = std::max(html, q);
    } else if (iequals(type, "text/plain")) {
      plain = std::max(plain, q);
    }
  }
  return html > 0 && (html > plain || (html == plain && html_first));
}

}  // namespace nodeagent::kiada
