#include "http/response.h"

#include <gtest/gtest.h>

#include "http/feed.h"

namespace nodeagent::http {
namespace {

TEST(Response, EachKindHoldsOnlyItsOwnContent) {
  auto shared = std::make_shared<const std::string>("pre-rendered\n");
  Response body = Response::shared(200, shared, kTextPlain);
  EXPECT_EQ(body.body().data(), shared->data()) << "shared, not copied";
  EXPECT_FALSE(body.stream());
  EXPECT_FALSE(body.deferred());

  auto feed = std::make_shared<Feed>();
  Response stream = Response::event_stream(feed);
  EXPECT_EQ(stream.stream(), feed);
  EXPECT_EQ(stream.content_type, kTextEventStream);
  EXPECT_TRUE(stream.body().empty());
  EXPECT_FALSE(stream.deferred());

  bool started = false;
  Response later = Response::later([&started](Response::Respond) { started = true; });
  EXPECT_TRUE(later.deferred());
  EXPECT_FALSE(later.stream());
  EXPECT_TRUE(later.body().empty());
  std::get<Response::Deferred>(later.content).start([](Response) {});
  EXPECT_TRUE(started);
}

TEST(Response, TextOwnsACopyAndStaticTextPointsAtTheLiteral) {
  std::string source = "copied\n";
  Response text = Response::text(201, source);
  source[0] = 'X';
  EXPECT_EQ(text.body(), "copied\n");
  EXPECT_NE(std::get<Response::Body>(text.content).owner, nullptr);

  static constexpr std::string_view kLiteral = "literal\n";
  Response fixed = Response::static_text(404, kLiteral);
  EXPECT_EQ(fixed.body().data(), kLiteral.data());
  EXPECT_EQ(std::get<Response::Body>(fixed.content).owner, nullptr);

  EXPECT_TRUE(Response::shared(200, nullptr, kTextPlain).body().empty());
}

}  // namespace
}  // namespace nodeagent::http
