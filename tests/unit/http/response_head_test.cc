#include "http/response_head.h"

#include <gtest/gtest.h>

namespace nodeagent::http {
namespace {

constexpr std::string_view kDate = "Wed, 02 Dec 2026 10:00:00 GMT";

std::string head(const Response& r, HeadOptions o = {}) {
  if (o.date.empty()) o.date = kDate;
  std::string out = "left over from the previous response";
  write_head(r, o, out);
  return out;
}

TEST(ResponseHead, TextResponse) {
  EXPECT_EQ(head(Response::static_text(200, "hello\n")),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 6\r\n"
            "Date: Wed, 02 Dec 2026 10:00:00 GMT\r\n"
            "\r\n");
}

TEST(ResponseHead, CloseKeepAliveAndNodeName) {
  auto r = Response::static_text(404, "");
  EXPECT_EQ(head(r, {.close = true, .node_field = "Node-Name: n1\r\n"}),
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 0\r\n"
            "Date: Wed, 02 Dec 2026 10:00:00 GMT\r\n"
            "Node-Name: n1\r\n"
            "Connection: close\r\n"
            "\r\n");
  // An HTTP/1.0 client only keeps the connection when told so.
  EXPECT_NE(head(r, {.version = 10}).find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(head(r, {.version = 11}).find("Connection:"), std::string::npos);
}

TEST(ResponseHead, NoContentLengthWhereNoBodyIsAllowed) {
  for (unsigned status : {100u, 101u, 204u, 304u}) {
    EXPECT_EQ(head(Response::static_text(status, "x")).find("Content-Length"), std::string::npos)
        << status;
    EXPECT_FALSE(body_allowed(status)) << status;
  }
  EXPECT_TRUE(body_allowed(200));
  EXPECT_TRUE(body_allowed(503));
}

TEST(ResponseHead, UnknownStatusHasAnEmptyReason) {
  EXPECT_EQ(head(Response::static_text(799, "")).substr(0, 15), "HTTP/1.1 799 \r\n");
}

TEST(ResponseHead, HandlerFieldsCannotChangeFramingOrInjectLines) {
  auto r = Response::static_text(200, "ok\n");
  r.with_header("Content-Length", "99")
      .with_header("transfer-encoding", "chunked")
      .with_header("Connection", "keep-alive")
      .with_header("Node-Name", "someone-else")
      .with_header("X-Split", "a\r\nSet-Cookie: x=1")
      .with_header("X-Nul", std::string("a\0b", 3))
      .with_header("", "empty name")
      .with_header("Cache-Control", "no-store");
  r.content_type = "text/plain\r\nX-Evil: 1";
  EXPECT_EQ(head(r),
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 3\r\n"
            "Cache-Control: no-store\r\n"
            "Date: Wed, 02 Dec 2026 10:00:00 GMT\r\n"
            "\r\n");
}

TEST(ResponseHead, StreamHasNoLengthAndItsOwnCaching) {
  auto r = Response::static_text(200, "ignored");
  r.with_header("Cache-Control", "max-age=60").with_header("X-Accel-Buffering", "no");
  EXPECT_EQ(head(r, {.stream = true, .version = 10}),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/event-stream\r\n"
            "Cache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\n"
            "Date: Wed, 02 Dec 2026 10:00:00 GMT\r\n"
            "\r\n");
}

}  // namespace
}  // namespace nodeagent::http
