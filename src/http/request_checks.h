#pragma once
// The protocol rules every request must pass before a handler sees it, as one pure function of
// the parsed request: no socket, no state, table-tested (tests/unit/http/request_checks_test.cc)
// and fuzzed on buffers. A refused request is answered with the returned status and body, and
// the connection is closed (its framing can no longer be trusted).

#include <optional>
#include <string_view>

#include "http/request.h"

namespace nodeagent::http {

struct Rejection {
  enum class Reason { kHost, kFraming, kBody };
  unsigned status = 400;
  std::string_view body;  // static storage, one line ending in "\n"
  Reason reason = Reason::kFraming;
};

// RFC 9112: section 3.2 (exactly one Host; required in HTTP/1.1), section 6.1 and 6.3
// (Transfer-Encoding is only accepted as the single coding "chunked", in HTTP/1.1, without
// Content-Length; anything else could make us and a proxy in front of us disagree on where the
// request ends, i.e. request smuggling), and this server's own rule that GET and HEAD carry no
// body. nullopt: the request may be handled.
std::optional<Rejection> check_request(const Request& request);

}  // namespace nodeagent::http
