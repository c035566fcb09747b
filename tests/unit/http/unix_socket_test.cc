#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

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

TEST_F(UnixSocket, RefusesASocketSomeoneListensOn) {
  RunningServer first(options(), handler());
  Server second(options(), handler());
  auto r = second.listen();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            cat("unix://", path_, ": another process is listening on this socket"));
  // The first server is untouched.
  auto c = Client::unix_socket(path_);
  ASSERT_TRUE(c.send(get("/")));
  EXPECT_TRUE(c.read_response());
}

TEST_F(UnixSocket, RefusesToTouchARegularFile) {
  { std::ofstream(path_) << "keep me\n"; }
  Server s(options(), handler());
  auto r = s.listen();
  ASSERT_FALSE(r);
  // listen() errors carry the address; they still compare equal to their condition.
  EXPECT_EQ(r.error().default_error_condition(),
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
  EXPECT_EQ(r.error(), boost::system::errc::no_such_file_or_directory);
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
