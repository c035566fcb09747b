#include "http/response.h"

#include "http/feed.h"

namespace nodeagent::http {

Response Response::text(unsigned status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.content_type = content_type;
  r.body_owner = std::make_shared<const std::string>(std::move(body));
  r.body = *r.body_owner;
  return r;
}

Response Response::static_text(unsigned status, std::string_view body,
                               std::string_view content_type) {
  Response r;
  r.status = status;
  r.content_type = content_type;
  r.body = body;
  return r;
}

Response Response::shared(unsigned status, std::shared_ptr<const std::string> body,
                          std::string_view content_type) {
  Response r;
  r.status = status;
  r.content_type = content_type;
  r.body_owner = std::move(body);
  if (r.body_owner) r.body = *r.body_owner;
  return r;
}

Response Response::event_stream(std::shared_ptr<Feed> feed) {
  Response r;
  r.content_type = kTextEventStream;
  r.stream = std::move(feed);
  return r;
}

}  // namespace nodeagent::http
