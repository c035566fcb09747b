// Response::deferred: the handler returns at once and the answer comes later from any thread.
#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "test_support.h"

namespace nodeagent::http::test {
namespace {

namespace bhttp = boost::beast::http;

// Parks every deferred request until the test answers it.
class Parking {
 public:
  Handler handler() {
    return [this](const Request& r) {
      if (r.target != "/later") return Response::static_text(200, "now\n");
      return Response::later([this](Response::Respond respond) {
        std::lock_guard lock(mutex_);
        waiting_.push_back(std::move(respond));
      });
    };
  }
  std::size_t parked() {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }
  Response::Respond take() {
    std::lock_guard lock(mutex_);
    auto r = std::move(waiting_.front());
    waiting_.erase(waiting_.begin());
    return r;
  }

 private:
  std::mutex mutex_;
  std::vector<Response::Respond> waiting_;
};

TEST(Deferred, AnswerFromAnotherThreadKeepsTheConnection) {
  Parking parking;
  auto options = tcp_options();
  options.threads = 1;
  RunningServer srv(options, parking.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/later")));
  ASSERT_TRUE(eventually([&] { return parking.parked() == 1; }));
  auto other = srv.client();  // the only loop is free meanwhile
  ASSERT_TRUE(other.send(get("/")));
  ASSERT_TRUE(other.read_response());
  std::thread([r = parking.take()] { r(Response::text(202, "later\n")); }).join();
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 202u);
  EXPECT_EQ(r->body(), "later\n");
  EXPECT_TRUE(r->keep_alive());
  ASSERT_TRUE(c.send(get("/")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "now\n");
}

TEST(Deferred, StopWaitsForTheAnswerAndClosesAfterIt) {
  Parking parking;
  RunningServer srv(tcp_options(), parking.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/later")));
  ASSERT_TRUE(eventually([&] { return parking.parked() == 1; }));
  srv.server().stop();
  parking.take()(Response::text(200, "done\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "done\n");
  EXPECT_EQ((*r)[bhttp::field::connection], "close");
  EXPECT_TRUE(c.wait_closed());
  srv.shutdown();
  EXPECT_EQ(srv.stats().drain_forced_closes.load(), 0u);
}

TEST(Deferred, UnansweredRequestTimesOut) {
  Parking parking;
  auto options = tcp_options();
  options.limits.send_timeout = 300ms;
  RunningServer srv(options, parking.handler());
  auto c = srv.client();
  ASSERT_TRUE(c.send(get("/later")));
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(c.raw().empty());
  EXPECT_EQ(srv.stats().send_timeouts.load(), 1u);
  parking.take()(Response::text(200, "too late\n"));  // harmless
  auto other = srv.client();
  ASSERT_TRUE(other.send(get("/")));
  EXPECT_TRUE(other.read_response());
}

}  // namespace
}  // namespace nodeagent::http::test
