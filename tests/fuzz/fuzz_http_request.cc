// libFuzzer: arbitrary bytes as one connection's input, driven through the pure pieces of the
// agent's request path on buffers, with no socket and no thread: RequestReader (Beast's parser
// and the header limits), check_request (RFC 9112 framing rules), the agent's Router and
// write_head, in the order a session runs them, pipelined requests included. The oracle is the
// one fuzz_http_session applies to a real server: every byte out belongs to a complete,
// well-framed response, never a 500.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_agent.h"
#include "http/request_checks.h"
#include "http/request_reader.h"
#include "http/response_head.h"
#include "http/server.h"

namespace {

using namespace nodeagent;

constexpr std::string_view kDate = "Wed, 02 Dec 2026 10:00:00 GMT";
constexpr std::string_view kNodeField = "Node-Name: fuzz-node\r\n";

fuzz::AgentUnderTest& agent() {
  static fuzz::AgentUnderTest* a = new fuzz::AgentUnderTest();  // never destroyed
  return *a;
}

void append(std::string& out, const http::Response& r, const http::HeadOptions& o, bool head) {
  static std::string h;  // reused like a session's head buffer
  http::write_head(r, o, h);
  out += h;
  if (!head && !o.stream && http::body_allowed(r.status)) out += r.body();
}

// What a session would send for `input` followed by the end of the connection. Storage is
// reused from one input to the next, as a session reuses it from one request to the next.
const std::string& serve(std::string_view input) {
  // The agent's header limits scaled down so that short inputs reach them too: libFuzzer runs
  // this target with -max_len=1024 (http_request.options), several times faster than with
  // inputs as long as the default 8 KiB limit needs.
  static const http::Limits limits = [] {
    http::Limits l;
    l.header_bytes = 512;
    l.max_header_count = 16;
    return l;
  }();
  static http::RequestReader reader(limits.header_bytes, limits.max_header_count);
  static std::string out;
  reader.reset();
  out.clear();
  http::HeadOptions closing{.close = true, .date = kDate, .node_field = kNodeField};
  for (;;) {
    const auto step = reader.put(input);
    input.remove_prefix(step.used);
    switch (step.status) {
      case http::RequestReader::Status::kNeedMore:
        return out;  // the connection ends inside a request: nothing to answer
      case http::RequestReader::Status::kTooLarge:
        append(out, http::Response::static_text(431, "request header fields too large\n"), closing,
               false);
        return out;
      case http::RequestReader::Status::kMalformed:
        append(out, http::Response::static_text(400, "bad request\n"), closing, false);
        return out;
      case http::RequestReader::Status::kDone:
        break;
    }
    http::Request& request = reader.request();
    request.remote = {};  // a unix-socket client
    const bool head = request.method == boost::beast::http::verb::head;
    closing.version = request.version;
    if (auto rejection = http::check_request(request)) {
      append(out, http::Response::static_text(rejection->status, rejection->body), closing, head);
      return out;
    }
    http::Response response = agent().router.handle(request);
    if (response.deferred()) fuzz::fail("the agent's router deferred an answer");
    if (response.status < 200 || response.status > 999) fuzz::fail("invalid status");
    const bool close = !request.keep_alive || request.has_body || response.close;
    http::HeadOptions options{.close = close || response.stream() != nullptr,
                              .stream = response.stream() != nullptr,
                              .version = request.version,
                              .date = kDate,
                              .node_field = kNodeField};
    append(out, response, options, head);
    if (options.close) return out;  // a stream lasts until the connection ends
    reader.reset();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::check_responses(serve({reinterpret_cast<const char*>(data), size}));
  return 0;
}
