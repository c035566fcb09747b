#include "http/response.h"

#include "http/feed.h"

namespace nodeagent::http {

Response Response::text(unsigned status, std::string body, std::string_view content_type) {
  return shared(status, std::make_shared<const std::string>(std::move(body)), content_type);
}

Response Response::static_text(unsigned status, std::string_view body,
                               std::string_view content_type) {
  Response r;
  r.status = status;
  r.content_type = content_type;
  r.content = Body{body, nullptr};
  return r;
}

Response Response::shared(unsigned status, std::shared_ptr<const std::string> body,
                          std::string_view content_type) {
  Response r;
  r.status = status;
  r.content_type = content_type;
  const std::string_view bytes = body ? std::string_view(*body) : std::string_view();
  r.content = Body{bytes, std::move(body)};
  return r;
}

Response Response::event_stream(std::shared_ptr<Feed> feed) {
  Response r;
  r.content_type = kTextEventStream;
  r.content = Stream{std::move(feed)};
  return r;
}

Response Response::later(std::function<void(Respond)> start) {
  Response r;
  r.content = Deferred{std::move(start)};
  return r;
}

const std::shared_ptr<Feed>& Response::stream() const {
  static const std::shared_ptr<Feed> none;
  const Stream* s = std::get_if<Stream>(&content);
  return s != nullptr ? s->feed : none;
}

}  // namespace nodeagent::http
