#include "http/request_checks.h"

#include "http/header_value.h"

namespace nodeagent::http {
namespace {

Rejection reject(Rejection::Reason reason, std::string_view body) {
  return Rejection{400, body, reason};
}

}  // namespace

std::optional<Rejection> check_request(const Request& request) {
  int hosts = 0, codings = 0, lengths = 0;
  bool chunked_only = true;
  for (const HeaderField& f : request.headers) {
    if (iequals(f.name, "host")) {
      ++hosts;
    } else if (iequals(f.name, "content-length")) {
      ++lengths;
    } else if (iequals(f.name, "transfer-encoding")) {
      ++codings;
      if (!iequals(trim_ows(f.value), "chunked")) chunked_only = false;
    }
  }
  using R = Rejection::Reason;
  if (hosts > 1) return reject(R::kHost, "more than one Host header\n");
  if (hosts == 0 && request.version >= 11) return reject(R::kHost, "missing Host header\n");
  if (codings > 0) {
    if (request.version < 11) {
      return reject(R::kFraming, "Transfer-Encoding is not allowed in HTTP/1.0\n");
    }
    if (lengths > 0) {
      return reject(R::kFraming, "both Transfer-Encoding and Content-Length\n");
    }
    if (codings > 1 || !chunked_only) {
      return reject(R::kFraming, "unsupported Transfer-Encoding (only chunked)\n");
    }
  }
  using boost::beast::http::verb;
  if (request.has_body && (request.method == verb::get || request.method == verb::head)) {
    return reject(R::kBody, "request body not allowed\n");
  }
  return std::nullopt;
}

}  // namespace nodeagent::http
