// Kiada answers pages through http::Response::deferred so that a slow agent never holds an
// event loop. These tests pin that server behaviour down with one loop thread.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "http/server.h"

namespace nodeagent::kiada {
namespace {

namespace asio = boost::asio;

// Minimal blocking HTTP/1.1 GET over loopback; returns the whole response (Connection: close).
std::string fetch(unsigned short port, std::string_view path) {
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  std::string req =
      "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  asio::write(sock, asio::buffer(req));
  std::string out;
  boost::system::error_code ec;
  asio::read(sock, asio::dynamic_buffer(out), ec);
  return out;
}

struct Parked {
  std::mutex mutex;
  std::vector<http::Response::Respond> waiting;
  std::promise<void> parked;
};

class DeferredServer : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerOptions options;
    options.listen.push_back(*http::parse_listen_address("127.0.0.1:0"));
    options.threads = 1;  // one loop: a blocked handler would stall every other request
    server_ = std::make_unique<http::Server>(options, [this](const http::Request& r) {
      if (r.target == "/slow") {
        return http::Response::later([this](http::Response::Respond respond) {
          std::lock_guard lock(parked_.mutex);
          parked_.waiting.push_back(std::move(respond));
          parked_.parked.set_value();
        });
      }
      if (r.target == "/throws") {
        return http::Response::later(
            [](http::Response::Respond) { throw std::runtime_error("boom"); });
      }
      return http::Response::static_text(200, "fast\n");
    });
    ASSERT_TRUE(server_->listen());
    auto addr = server_->bound_addresses().at(0);
    port_ = static_cast<unsigned short>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    ASSERT_TRUE(server_->start());
  }
  void TearDown() override {
    server_->stop();
    server_->join();
  }

  std::unique_ptr<http::Server> server_;
  unsigned short port_ = 0;
  Parked parked_;
};

TEST_F(DeferredServer, WaitingRequestDoesNotHoldTheLoop) {
  auto slow = std::async(std::launch::async, [this] { return fetch(port_, "/slow"); });
  parked_.parked.get_future().wait();
  // The only loop thread is free: another request is served while /slow waits.
  EXPECT_NE(fetch(port_, "/fast").find("\r\n\r\nfast\n"), std::string::npos);
  http::Response::Respond respond;
  {
    std::lock_guard lock(parked_.mutex);
    respond = parked_.waiting.at(0);
  }
  // Answered from another thread; a second call is ignored.
  std::thread([respond] {
    respond(http::Response::text(201, "late answer\n"));
    respond(http::Response::text(500, "ignored\n"));
  }).join();
  std::string answer = slow.get();
  EXPECT_EQ(answer.rfind("HTTP/1.1 201", 0), 0u) << answer;
  EXPECT_NE(answer.find("\r\n\r\nlate answer\n"), std::string::npos) << answer;
}

TEST_F(DeferredServer, ThrowingDeferredStartIs500) {
  std::string answer = fetch(port_, "/throws");
  EXPECT_EQ(answer.rfind("HTTP/1.1 500", 0), 0u) << answer;
}

TEST_F(DeferredServer, AnsweringAfterTheClientLeftIsHarmless) {
  {
    asio::io_context ioc;
    asio::ip::tcp::socket sock(ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), port_});
    asio::write(sock, asio::buffer(std::string("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")));
    parked_.parked.get_future().wait();
  }  // client gone
  http::Response::Respond respond;
  {
    std::lock_guard lock(parked_.mutex);
    respond = parked_.waiting.at(0);
  }
  respond(http::Response::text(200, "nobody listens\n"));
  EXPECT_NE(fetch(port_, "/fast").find("fast"), std::string::npos);
}

}  // namespace
}  // namespace nodeagent::kiada
