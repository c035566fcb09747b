#include "http/request_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace nodeagent::http {
namespace {

using Status = RequestReader::Status;

TEST(RequestReader, ParsesARequestAndLeavesWhatFollows) {
  RequestReader reader(8192, 100);
  const std::string in =
      "GET /v1/node?x=1 HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n"
      "User-Agent: t/1\r\nX-Other:  spaced  \r\n\r\nGET /next";
  auto step = reader.put(in);
  ASSERT_EQ(step.status, Status::kDone);
  EXPECT_EQ(in.substr(step.used), "GET /next");
  const Request& r = reader.request();
  EXPECT_EQ(r.method, boost::beast::http::verb::get);
  EXPECT_EQ(r.method_string, "GET");
  EXPECT_EQ(r.target, "/v1/node?x=1");
  EXPECT_EQ(r.host, "a");
  EXPECT_EQ(r.accept, "application/json");
  EXPECT_EQ(r.user_agent, "t/1");
  EXPECT_EQ(r.header("x-other"), "spaced");
  EXPECT_EQ(r.version, 11u);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.has_body);
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers[3].name, "X-Other");
}

TEST(RequestReader, WaitsForTheRestOfAHeaderAndSaysItStarted) {
  RequestReader reader(8192, 100);
  EXPECT_FALSE(reader.started());
  const std::string whole = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  auto step = reader.put(std::string_view(whole).substr(0, 20));
  EXPECT_EQ(step.status, Status::kNeedMore);
  // What was not used is given again with what arrived since, as a socket buffer would.
  step = reader.put(std::string_view(whole).substr(step.used));
  ASSERT_EQ(step.status, Status::kDone) << step.error.message();
  EXPECT_EQ(reader.request().version, 10u);
  EXPECT_TRUE(reader.request().keep_alive);
}

TEST(RequestReader, UnknownMethodsKeepTheirSpellingAndBodiesAreNoted) {
  RequestReader reader(8192, 100);
  auto step = reader.put("BREW /pot HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(step.status, Status::kDone);
  EXPECT_EQ(reader.request().method, boost::beast::http::verb::unknown);
  EXPECT_EQ(reader.request().method_string, "BREW");
  EXPECT_TRUE(reader.request().has_body);
  reader.reset();
  step = reader.put("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(step.status, Status::kDone);
  EXPECT_TRUE(reader.request().has_body);
  reader.reset();
  EXPECT_FALSE(reader.started());
}

TEST(RequestReader, ResetServesTheNextRequestOfAConnection) {
  RequestReader reader(8192, 100);
  std::string in = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n";
  auto step = reader.put(in);
  ASSERT_EQ(step.status, Status::kDone);
  EXPECT_EQ(reader.request().target, "/a");
  reader.reset();
  step = reader.put(std::string_view(in).substr(step.used));
  ASSERT_EQ(step.status, Status::kDone);
  EXPECT_EQ(reader.request().target, "/b");
  EXPECT_EQ(reader.request().host, "b");
  EXPECT_EQ(reader.request().headers.size(), 1u);
}

TEST(RequestReader, LimitsAndGarbage) {
  {
    RequestReader reader(64, 100);
    auto step =
        reader.put("GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(100, 'x') + "\r\n\r\n");
    EXPECT_EQ(step.status, Status::kTooLarge);
  }
  {
    RequestReader reader(8192, 2);
    auto step = reader.put("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n");
    EXPECT_EQ(step.status, Status::kTooLarge);
  }
  for (std::string_view bad :
       {"GET / HTTP/2.0\r\n\r\n", "GET / SPDY/1.1\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"}) {
    RequestReader reader(8192, 100);
    auto step = reader.put(bad);
    EXPECT_EQ(step.status, Status::kMalformed) << bad;
    EXPECT_TRUE(step.error) << bad;
  }
}

}  // namespace
}  // namespace nodeagent::http
