#include "http/response_head.h"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <vector>

#include "http/header_value.h"

namespace nodeagent::http {
namespace {

const std::string& status_line(unsigned status) {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(1000);
    for (unsigned s = 100; s < t.size(); ++s) {
      namespace bhttp = boost::beast::http;
      std::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(s));
      if (reason == "<unknown-status>") reason = {};
      t[s] = "HTTP/1.1 " + std::to_string(s) + " " + std::string(reason) + "\r\n";
    }
    return t;
  }();
  return table[status];
}

bool has_ctl(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

bool allowed_field(std::string_view name, std::string_view value) {
  if (name.empty() || has_ctl(name) || has_ctl(value)) return false;
  return !iequals(name, "content-length") && !iequals(name, "transfer-encoding") &&
         !iequals(name, "connection") && !iequals(name, "node-name");
}

}  // namespace

bool body_allowed(unsigned status) { return status >= 200 && status != 204 && status != 304; }

void write_head(const Response& r, const HeadOptions& o, std::string& h) {
  h.clear();
  h += status_line(r.status);
  if (o.stream) {
    h += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n";
  } else {
    if (!r.content_type.empty() && !has_ctl(r.content_type)) {
      h += "Content-Type: ";
      h += r.content_type;
      h += "\r\n";
    }
    if (body_allowed(r.status)) {
      char digits[24];
      auto end = std::to_chars(digits, digits + sizeof digits, r.body().size()).ptr;
      h += "Content-Length: ";
      h.append(digits, end);
      h += "\r\n";
    }
  }
  for (const auto& [name, value] : r.headers) {
    if (!allowed_field(name, value)) continue;
    if (o.stream && iequals(name, "cache-control")) continue;
    h += name;
    h += ": ";
    h += value;
    h += "\r\n";
  }
  h += "Date: ";
  h += o.date;
  h += "\r\n";
  h += o.node_field;
  if (o.close) {
    h += "Connection: close\r\n";
  } else if (o.version == 10 && !o.stream) {
    h += "Connection: keep-alive\r\n";
  }
  h += "\r\n";
}

}  // namespace nodeagent::http
