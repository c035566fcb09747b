#pragma once
// What a Handler returns. Cheap to build for the hot path: a pre-rendered body is shared through
// body_owner (one reference-count increment per request, no copy).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nodeagent::http {

class Feed;

inline constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
inline constexpr std::string_view kTextHtml = "text/html; charset=utf-8";
inline constexpr std::string_view kApplicationJson = "application/json";
inline constexpr std::string_view kTextEventStream = "text/event-stream";

struct Response {
  unsigned status = 200;
  // Must point to static storage or into *body_owner.
  std::string_view content_type;
  // Keeps `body` alive until the response is written; null when `body` is static storage.
  std::shared_ptr<const std::string> body_owner;
  std::string_view body;  // points into *body_owner or static storage
  // Extra fields, e.g. {"Allow", "GET, HEAD"}, {"Cache-Control", "no-store"}, {"Location", ...}.
  // Names must be static storage. Fields containing CR or LF, and Content-Length,
  // Transfer-Encoding and Connection, are dropped: the server owns framing.
  std::vector<std::pair<std::string_view, std::string>> headers;
  // Non-null: answer with Server-Sent Events from this feed (status, headers kept; body ignored).
  std::shared_ptr<Feed> stream;

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
