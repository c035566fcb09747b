#pragma once
// Bytes in, requests out: Beast's parser writing the request line and fields into storage that
// is reused from one request to the next (no allocation per request once warm), with the
// header-size and field-count limits. No socket and no clock: the session feeds it what it
// reads, tests and the HTTP fuzz target feed it buffers.

#include <boost/beast/http/basic_parser.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace nodeagent::http {

class RequestReader {
 public:
  RequestReader(std::size_t header_bytes, std::size_t max_fields);
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  enum class Status {
    kNeedMore,   // every byte given was used; the header is not complete yet
    kDone,       // a request's header is complete: see request()
    kTooLarge,   // more than header_bytes of header, or more than max_fields fields
    kMalformed,  // not HTTP/1.x
  };
  struct Step {
    Status status = Status::kNeedMore;
    std::size_t used = 0;             // bytes of the input consumed
    boost::system::error_code error;  // kTooLarge and kMalformed: Beast's reason
  };

  // Parses the front of `bytes`. Bodies are never read: after kDone the caller decides what
  // the rest of the input is (see check_request).
  Step put(std::string_view bytes);

  // The request whose header completed with kDone, valid until reset(). Its views point into
  // this reader; `remote` is left for the caller to fill.
  Request& request() { return request_; }

  // Some of a request arrived but its header is not complete.
  bool started() const;

  // Ready for the next request on the same connection.
  void reset();

 private:
  struct Span {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  struct FieldRef {
    Span name;
    Span value;
  };

  // Beast's parser, storing the request line and fields into the reader's arena and enforcing
  // the field-count limit. Bodies are skipped, never stored.
  class Parser final : public boost::beast::http::basic_parser<true> {
   public:
    explicit Parser(RequestReader& reader) : r_(reader) {}

    boost::beast::http::verb method = boost::beast::http::verb::unknown;
    std::string_view known_method;  // static storage when the verb is known
    Span method_span;
    Span target;
    int version = 11;
    int accept_index = -1;
    int user_agent_index = -1;
    int host_index = -1;

   private:
    using BeastView = boost::beast::string_view;
    Span store(std::string_view s);
    void on_request_impl(boost::beast::http::verb method, BeastView method_str, BeastView target,
                         int version, boost::beast::error_code& ec) override;
    void on_response_impl(int, BeastView, int, boost::beast::error_code& ec) override;
    void on_field_impl(boost::beast::http::field name, BeastView name_string, BeastView value,
                       boost::beast::error_code& ec) override;
    void on_header_impl(boost::beast::error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&,
                           boost::beast::error_code&) override {}
    std::size_t on_body_impl(BeastView body, boost::beast::error_code&) override {
      return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, BeastView, boost::beast::error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, BeastView body,
                                   boost::beast::error_code&) override {
      return body.size();
    }
    void on_finish_impl(boost::beast::error_code&) override {}

    RequestReader& r_;
  };

  void finish();

  std::size_t header_bytes_;
  std::size_t max_fields_;
  std::string arena_;
  std::vector<FieldRef> field_refs_;
  std::vector<HeaderField> fields_;
  std::optional<Parser> parser_;  // re-created per request, in place (no allocation)
  Request request_;
};

}  // namespace nodeagent::http
