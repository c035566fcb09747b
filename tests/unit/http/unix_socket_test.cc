#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_support.h"

namespace nodeagent::http::test {
namespace {

class UnixSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/http-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = cat(dir_, "/agent.sock");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ServerOptions options(unsigned mode = 0660) const {
    ServerOptions o;
    o.listen.push_back(*parse_listen_address(cat("unix://", path_)));
    o.threads = 1;
    o.socket_mode = mode;
    return o;
  }
  static Handler handler() {
    return [](const Request& r) {
      return Response::text(200, cat("remote=", r.remote.to_string(), "\n"));
    };
  }

  std::string dir_;
  std::string path_;
};

TEST_F(UnixSocket, ServesWithTheRequestedMode) {
  ::umask(0077);  // must not matter: the mode is set explicitly
  RunningServer srv(options(0666), handler());
  ::umask(0022);
  EXPECT_EQ(srv.server().bound_addresses().at(0), cat("unix://", path_));
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);

  auto c = Client::unix_socket(path_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "remote=unix\n");

  srv.shutdown();
  EXPECT_FALSE(std::filesystem::exists(path_)) << "socket file removed on stop";
}

TEST_F(UnixSocket, SetsTheRequestedGroup) {
  const gid_t group =
      ::getgid() == 0 ? 1 : ::getgid();  // root may give it away; others keep theirs
  auto o = options();
  o.socket_group = static_cast<int>(group);
  RunningServer srv(o, handler());
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, group);
}

TEST_F(UnixSocket, ReplacesAStaleSocketFile) {
  // A socket file nobody listens on, as a crashed process leaves it.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path_.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::is_socket(path_));

  RunningServer srv(options(), handler());
  auto c = Client::unix_socket(path_);
  ASSERT_TRUE(c.send(get("/")));
  EXPECT_TRUE(c.read_response());
}

// One request on a new connection: the body, or "" when connecting or answering failed.
std::string ask(const std::string& path) {
  auto c = Client::unix_socket(path);
  if (!c.connected() || !c.send(get("/"))) return "";
  auto r = c.read_response();
  return r ? r->body() : "";
}

TEST_F(UnixSocket, ANewServerReplacesARunningOneWithoutAFailedConnect) {
  auto named = [](std::string name) {
    return [name](const Request&) { return Response::text(200, name); };
  };
  auto first = std::make_unique<RunningServer>(options(), named("first"));
  ASSERT_EQ(ask(path_), "first");
  // A client connects over and over while the second server takes the path and the first
  // one shuts down: every connect must succeed and be answered.
  std::atomic<bool> done{false};
  std::atomic<int> answered{0}, failed{0};
  std::thread client([&] {
    for (int i = 0; i < 200000 && !done; ++i) {  // bounded, normally ended by `done`
      (ask(path_).empty() ? failed : answered)++;
    }
  });
  // The client runs before, during and after the hand-over (on a loaded machine it may start
  // late: wait for it rather than assume it).
  EXPECT_TRUE(eventually([&] { return answered.load() > 0; }));
  auto second = std::make_unique<RunningServer>(options(), named("second"));
  EXPECT_TRUE(eventually([&] { return ask(path_) == "second"; }));
  first->shutdown();
  const int after_shutdown = answered.load();
  struct stat st {};
  EXPECT_EQ(::lstat(path_.c_str(), &st), 0) << "the first server removed the second's socket";
  EXPECT_EQ(ask(path_), "second");
  EXPECT_TRUE(eventually([&] { return answered.load() > after_shutdown; }));
  done = true;
  client.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(answered.load(), 0);
  second->shutdown();
  EXPECT_NE(::lstat(path_.c_str(), &st), 0) << "the last server removes its own socket";
}

// A client that has connected but not yet sent its request when stop() comes is served: it
// cannot tell a drain from a failure (only an idle keep-alive connection may be closed).
TEST_F(UnixSocket, AConnectionWithoutItsRequestYetIsServedThroughADrain) {
  RunningServer srv(options(), handler());
  auto c = Client::unix_socket(path_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(eventually([&] { return srv.stats().connections_accepted.load() == 1; }));
  srv.server().stop();
  // The drain has begun on the worker once the listener is closed (the file goes first).
  ASSERT_TRUE(eventually([&] {
    struct stat st {};
    return ::lstat(path_.c_str(), &st) != 0;
  }));
  ASSERT_TRUE(c.send(get("/")));
  auto r = c.read_response();
  ASSERT_TRUE(r) << "the drain closed a connection whose request was on its way";
  EXPECT_EQ(r->result_int(), 200u);
  srv.shutdown();
}

TEST_F(UnixSocket, NoTemporaryFileIsLeftBehind) {
  { RunningServer srv(options(), handler()); }
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(UnixSocket, ASymlinkAtThePathIsNotFollowed) {
  const std::string target = cat(dir_, "/precious");
  { std::ofstream(target) << "x"; }
  ::chmod(target.c_str(), 0600);
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  Server s(options(0777), handler());
  auto r = s.listen();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code.default_error_condition(),
            make_error_code(AddressError::kNotASocket).default_error_condition());
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(UnixSocket, SocketsSwappedForSymlinksNeverRedirectTheChmod) {
  // A hostile process with write access to the socket directory replaces every socket file it
  // sees, whatever its name, by a symlink to a file of ours, while servers start over and over.
  const std::string target = cat(dir_, "/precious");
  { std::ofstream(target) << "x"; }
  ::chmod(target.c_str(), 0600);
  std::atomic<bool> done{false};
  std::atomic<int> swaps{0};
  // inotify wakes the attacker the moment a file appears, as fast as a real attacker can be.
  const int watch = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  ASSERT_GE(watch, 0);
  ASSERT_GE(::inotify_add_watch(watch, dir_.c_str(), IN_CREATE | IN_MOVED_TO), 0);
  std::thread attacker([&] {
    alignas(inotify_event) char buf[4096];
    auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!done && std::chrono::steady_clock::now() < give_up) {
      pollfd p{watch, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::read(watch, buf, sizeof buf);
      for (ssize_t off = 0; off < n;) {
        auto* ev = reinterpret_cast<inotify_event*>(buf + off);
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        if (ev->len == 0) continue;
        const std::string name = cat(dir_, "/", ev->name);
        struct stat st {};
        if (::lstat(name.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        if (::unlink(name.c_str()) == 0 && ::symlink(target.c_str(), name.c_str()) == 0) swaps++;
      }
    }
  });
  for (int i = 0; i < 2000; ++i) {
    std::filesystem::remove(path_);
    Server s(options(0777), handler());
    (void)s.listen();
  }
  done = true;
  attacker.join();
  ::close(watch);
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "after " << swaps.load() << " swaps";
}

TEST_F(UnixSocket, RefusesToTouchARegularFile) {
  { std::ofstream(path_) << "keep me\n"; }
  Server s(options(), handler());
  auto r = s.listen();
  ASSERT_FALSE(r);
  // listen() errors carry the address; they still compare equal to their condition.
  EXPECT_EQ(r.error().code.default_error_condition(),
            make_error_code(AddressError::kNotASocket).default_error_condition());
  EXPECT_NE(r.error().message().find(path_), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("not a socket"), std::string::npos);
  std::ifstream in(path_);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "keep me\n");
}

TEST_F(UnixSocket, MissingDirectoryIsAClearError) {
  ServerOptions o;
  o.listen.push_back(*parse_listen_address(cat("unix://", dir_, "/missing/agent.sock")));
  Server s(o, handler());
  auto r = s.listen();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, boost::system::errc::no_such_file_or_directory);
  EXPECT_NE(r.error().message().find("/missing/agent.sock: "), std::string::npos);
}

TEST_F(UnixSocket, TcpAndUnixTogether) {
  auto o = options();
  o.listen.insert(o.listen.begin(), *parse_listen_address("127.0.0.1:0"));
  o.threads = 2;
  RunningServer srv(o, handler());
  ASSERT_EQ(srv.server().bound_addresses().size(), 2u);
  auto t = srv.client();
  ASSERT_TRUE(t.send(get("/")));
  auto r = t.read_response();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->body().starts_with("remote=127.0.0.1:"));
  auto u = Client::unix_socket(path_);
  ASSERT_TRUE(u.send(get("/")));
  r = u.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "remote=unix\n");
}

}  // namespace
}  // namespace nodeagent::http::test
