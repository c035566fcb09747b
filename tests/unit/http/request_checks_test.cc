#include "http/request_checks.h"

#include <gtest/gtest.h>

#include <vector>

namespace nodeagent::http {
namespace {

using boost::beast::http::verb;

struct Case {
  const char* what;
  std::vector<HeaderField> headers;
  unsigned version = 11;
  verb method = verb::get;
  bool has_body = false;
  std::optional<std::string_view> refused;  // the 400 body, or nullopt when accepted
};

class RequestChecks : public testing::TestWithParam<Case> {};

TEST_P(RequestChecks, Table) {
  const Case& c = GetParam();
  Request r;
  r.method = c.method;
  r.version = c.version;
  r.has_body = c.has_body;
  r.headers = c.headers;
  auto rejection = check_request(r);
  if (!c.refused) {
    EXPECT_FALSE(rejection) << c.what << ": " << rejection->body;
    return;
  }
  ASSERT_TRUE(rejection) << c.what;
  EXPECT_EQ(rejection->status, 400u) << c.what;
  EXPECT_EQ(rejection->body, *c.refused) << c.what;
}

constexpr std::string_view kTe = "unsupported Transfer-Encoding (only chunked)\n";
const HeaderField kHost{"Host", "a"};

INSTANTIATE_TEST_SUITE_P(
    Rfc9112, RequestChecks,
    testing::Values(
        Case{"plain GET", {kHost}, 11, verb::get, false, std::nullopt},
        Case{"HTTP/1.0 needs no Host", {}, 10, verb::get, false, std::nullopt},
        Case{"HTTP/1.1 without Host", {}, 11, verb::get, false, "missing Host header\n"},
        Case{"two Hosts",
             {kHost, {"host", "b"}},
             11,
             verb::get,
             false,
             "more than one Host header\n"},
        Case{"two Hosts in 1.0",
             {kHost, kHost},
             10,
             verb::get,
             false,
             "more than one Host header\n"},
        // Transfer-Encoding: only a lone "chunked" is understood (section 6.1, 6.3).
        Case{"chunked POST",
             {kHost, {"Transfer-Encoding", "chunked"}},
             11,
             verb::post,
             true,
             std::nullopt},
        Case{"chunked, any case",
             {kHost, {"transfer-encoding", " Chunked "}},
             11,
             verb::post,
             true,
             std::nullopt},
        Case{"gzip", {kHost, {"Transfer-Encoding", "gzip"}}, 11, verb::get, false, kTe},
        Case{"xchunked", {kHost, {"Transfer-Encoding", "xchunked"}}, 11, verb::get, false, kTe},
        Case{"chunked not last",
             {kHost, {"Transfer-Encoding", "chunked, identity"}},
             11,
             verb::get,
             true,
             kTe},
        Case{"gzip then chunked",
             {kHost, {"Transfer-Encoding", "gzip, chunked"}},
             11,
             verb::post,
             true,
             kTe},
        Case{"empty", {kHost, {"Transfer-Encoding", ""}}, 11, verb::get, false, kTe},
        Case{"two fields",
             {kHost, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
             11,
             verb::post,
             true,
             kTe},
        Case{"TE and CL",
             {kHost, {"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}},
             11,
             verb::post,
             true,
             "both Transfer-Encoding and Content-Length\n"},
        Case{"TE in 1.0",
             {{"Transfer-Encoding", "chunked"}},
             10,
             verb::post,
             true,
             "Transfer-Encoding is not allowed in HTTP/1.0\n"},
        // This server's own rule: no body on GET/HEAD.
        Case{"GET with a body",
             {kHost, {"Content-Length", "3"}},
             11,
             verb::get,
             true,
             "request body not allowed\n"},
        Case{"HEAD with a chunked body",
             {kHost, {"Transfer-Encoding", "chunked"}},
             11,
             verb::head,
             true,
             "request body not allowed\n"},
        Case{"POST with a body",
             {kHost, {"Content-Length", "3"}},
             11,
             verb::post,
             true,
             std::nullopt}));

}  // namespace
}  // namespace nodeagent::http
