#pragma once
// What a Handler returns. Cheap to build for the hot path: a pre-rendered body is shared, not
// copied.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace nodeagent::http {

class Feed;

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
inline constexpr std::string_view kTextHtml = "text/html; charset=utf-8";
inline constexpr std::string_view kApplicationJson = "application/json";
inline constexpr std::string_view kTextEventStream = "text/event-stream";

// A response is a head (status, type, fields) and one of three kinds of content: a complete
// body, an event stream, or an answer that comes later. The kinds are a variant, so a handler
// cannot half-set two of them and the server handles each in one place.
struct Response {
  unsigned status = 200;
  // Must point to static storage or into the body's owner.
  std::string_view content_type;
  // Extra fields, e.g. {"Allow", "GET, HEAD"}, {"Cache-Control", "no-store"}, {"Location", ...}.
  // Names must be static storage. Fields containing CR or LF, and Content-Length,
  // Transfer-Encoding and Connection, are dropped: the server owns framing. So is Node-Name:
  // the server adds it from ServerOptions::node_name.
  std::vector<std::pair<std::string_view, std::string>> headers;
  // Close the connection after this response (Connection: close), e.g. for a refused client
  // whose pipelined requests should not be read at all.
  bool close = false;

  // A complete body: static storage (owner null) or a string shared with other responses (one
  // reference-count increment per request, no copy).
  struct Body {
    std::string_view bytes;
    std::shared_ptr<const std::string> owner;
  };
  // Server-Sent Events from this feed until the connection ends (status and fields kept).
  struct Stream {
    std::shared_ptr<Feed> feed;
  };
  // For handlers that wait on something slow (another service) and must not hold the event
  // loop meanwhile. Only `start` counts: the server calls start(respond) on the connection's
  // loop right after the handler returns and sends whatever `respond` is given. `respond` is
  // thread-safe and may be called from any thread; only its first call counts. It must not be
  // called after the Server is destroyed (finish or drop pending work before that); dropping it
  // without a call is fine. A connection waits at most Limits::send_timeout for its answer, then
  // it is closed. Copy what you need from the Request: its views die when the handler returns.
  using Respond = std::function<void(Response)>;
  struct Deferred {
    std::function<void(Respond)> start;
  };
  std::variant<Body, Stream, Deferred> content;

  // Body copied into a new shared string.
  static Response text(unsigned status, std::string body,
                       std::string_view content_type = kTextPlain);
  // Body in static storage (string literal); no allocation.
  static Response static_text(unsigned status, std::string_view body,
                              std::string_view content_type = kTextPlain);
  // Pre-rendered body shared with other responses; `content_type` as above.
  static Response shared(unsigned status, std::shared_ptr<const std::string> body,
                         std::string_view content_type);
  static Response event_stream(std::shared_ptr<Feed> feed);
  static Response later(std::function<void(Respond)> start);

  // The body's bytes; empty for a stream or a deferred answer.
  std::string_view body() const {
    const Body* b = std::get_if<Body>(&content);
    return b != nullptr ? b->bytes : std::string_view();
  }
  // The feed of a stream, else null.
  const std::shared_ptr<Feed>& stream() const;
  bool deferred() const { return std::holds_alternative<Deferred>(content); }

  Response& with_header(std::string_view name, std::string value) & {
    headers.emplace_back(name, std::move(value));
    return *this;
  }
  Response&& with_header(std::string_view name, std::string value) && {
    headers.emplace_back(name, std::move(value));
    return std::move(*this);
  }
};

}  // namespace nodeagent::http
