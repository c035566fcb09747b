#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

#include "fuzz_agent.h"

namespace nodeagent::fuzz {
namespace {

// Beast's response parser that keeps only what the oracle looks at (no field storage, so no
// allocation per field).
class ResponseHeadParser final : public boost::beast::http::basic_parser<false> {
 public:
  unsigned status = 0;
  bool event_stream = false;

 private:
  using View = boost::beast::string_view;
  using Code = boost::beast::error_code;
  void on_request_impl(boost::beast::http::verb, View, View, int, Code& ec) override {
    ec = boost::beast::http::error::bad_version;
  }
  void on_response_impl(int code, View, int, Code&) override {
    status = static_cast<unsigned>(code);
  }
  void on_field_impl(boost::beast::http::field name, View, View value, Code&) override {
    if (name == boost::beast::http::field::content_type)
      event_stream = value == "text/event-stream";
  }
  void on_header_impl(Code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, Code&) override {}
  std::size_t on_body_impl(View body, Code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, View, Code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, View body, Code&) override { return body.size(); }
  void on_finish_impl(Code&) override {}
};

}  // namespace

void check_responses(std::string_view out) {
  while (!out.empty()) {
    if (!out.starts_with("HTTP/1.1 ") && !out.starts_with("HTTP/1.0 ")) {
      fail("bytes that are not a response: " + std::string(out.substr(0, 40)));
    }
    ResponseHeadParser head;
    head.eager(false);
    boost::system::error_code ec;
    std::size_t used = head.put(boost::asio::buffer(out.data(), out.size()), ec);
    if (ec || !head.is_header_done()) fail("malformed or truncated response header");
    if (head.status == 500) fail("the handler threw (500)");
    if (head.status < 200 || head.status > 599) fail("odd status " + std::to_string(head.status));
    out.remove_prefix(used);
    if (head.event_stream) return;  // until the connection ends
    auto length = head.content_length();
    if (!length) fail("response without Content-Length");
    // A HEAD answer: the header announces a body that is not sent (no route's body starts
    // like a status line).
    if (*length > 0 && (out.empty() || out.starts_with("HTTP/1."))) continue;
    if (out.size() < *length) fail("truncated body");
    out.remove_prefix(*length);
  }
}

}  // namespace nodeagent::fuzz
