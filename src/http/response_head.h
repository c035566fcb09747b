#pragma once
// A response's head as bytes: a pure function of the Response and the connection's state, so
// framing rules are table-tested (tests/unit/http/response_head_test.cc) and fuzzed without a
// socket. The session sends the head and then the body in one gather write.

#include <string>
#include <string_view>

#include "http/response.h"

namespace nodeagent::http {

struct HeadOptions {
  bool close = false;             // the connection ends after this response: "Connection: close"
  bool stream = false;            // Server-Sent Events: delimited by the end of the connection
  unsigned version = 11;          // the request's HTTP version; 10 gets an explicit keep-alive
  std::string_view date{};        // IMF-fixdate for the Date field
  std::string_view node_field{};  // "Node-Name: n1\r\n", or empty
};

// Whether a response with this status carries a body (RFC 9110 section 6.4.1: not 1xx, 204, 304).
bool body_allowed(unsigned status);

// Replaces `out` with the status line and fields, ending in the empty line. The status must be
// 100..999. Content-Length, Transfer-Encoding, Connection and Node-Name set by a handler are
// dropped (the server owns framing), as is any field whose name or value holds CR, LF or NUL.
void write_head(const Response& response, const HeadOptions& options, std::string& out);

}  // namespace nodeagent::http
