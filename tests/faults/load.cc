// node-agent-load: the load side of tests/integration/test_faults.py. Python cannot hold 10,000
// sockets busy or send a million requests in reasonable time; this does, on one event loop, and
// checks every response it gets (status, Content-Length framing, body prefix).
//
//   node-agent-load requests --port P --connections C --requests N [--path /] [--expect TEXT]
//       N keep-alive GETs spread over C connections. Exit 0 only if all N got a 200.
//   node-agent-load hold --port P --connections N [--path /healthz]
//       Opens N connections and gets one answer on each, prints "holding N", keeps them all open
//       until stdin closes, then asks once more on every one. Exit 0 only if every connection
//       answered both times.
//   node-agent-load drain --port P --connections C [--path /]
//       Keep-alive GETs on C connections until the server closes them all (the test sends
//       SIGTERM meanwhile); prints "running" once traffic flows. Counts complete responses,
//       partial ones (connection closed mid-response: must be 0) and requests the server closed
//       the connection on before reading them (allowed).
// Common: --host 127.0.0.1, --max-seconds 300 (exit 3 when exceeded). The summary is one JSON
// line on stdout.

#include <sys/resource.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t connections = 1;
  std::uint64_t requests = 0;
  std::string path;
  std::string expect;  // body prefix every 200 must start with
  double max_seconds = 300;
};

struct Stats {
  std::uint64_t ok = 0;          // 200 with a well-framed body
  std::uint64_t non_200 = 0;     // well-framed but another status
  std::uint64_t bad_body = 0;    // 200 whose body lacks the expected prefix
  std::uint64_t malformed = 0;   // not parseable as a response
  std::uint64_t partial = 0;     // connection closed in the middle of a response
  std::uint64_t unanswered = 0;  // closed before the first byte of the answer
  std::uint64_t io_errors = 0;   // connect/write failures
  std::uint64_t closed_by_server = 0;
};

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char a = line[i], b = name[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// One parsed response at the front of `buf`, or nothing yet.
struct Parsed {
  enum class Kind { kIncomplete, kComplete, kMalformed } kind = Kind::kIncomplete;
  unsigned status = 0;
  bool close = false;
  std::size_t size = 0;  // bytes consumed
  std::string_view body;
};

Parsed parse_response(std::string_view buf) {
  Parsed p;
  const std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > 65536) p.kind = Parsed::Kind::kMalformed;
    return p;
  }
  std::string_view head = buf.substr(0, end + 2);
  if (!head.starts_with("HTTP/1.1 ") || head.size() < 12) {
    p.kind = Parsed::Kind::kMalformed;
    return p;
  }
  p.status = static_cast<unsigned>(std::atoi(std::string(head.substr(9, 3)).c_str()));
  std::optional<std::size_t> length;
  std::size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    std::size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    if (iequals_prefix(line, "content-length:")) {
      length = static_cast<std::size_t>(
          std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10));
    } else if (iequals_prefix(line, "connection:") &&
               line.find("close") != std::string_view::npos) {
      p.close = true;
    }
    pos = eol + 2;
  }
  if (!length) {
    p.kind = Parsed::Kind::kMalformed;
    return p;
  }
  const std::size_t total = end + 4 + *length;
  if (buf.size() < total) return p;
  p.kind = Parsed::Kind::kComplete;
  p.size = total;
  p.body = buf.substr(end + 4, *length);
  return p;
}

class Run;

// One client connection: request, read the whole response, decide what next.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Run& run, asio::io_context& ioc) : run_(run), socket_(ioc) {}
  void start();
  void send();  // one request
  void close() {
    error_code ec;
    socket_.close(ec);
  }
  bool open() const { return socket_.is_open(); }
  std::uint64_t answers = 0;

 private:
  void read();
  void on_read(error_code ec, std::size_t n);

  Run& run_;
  tcp::socket socket_;
  std::string buf_;
  std::array<char, 16384> chunk_{};
  bool awaiting_ = false;
  bool connected_ = false;
};

class Run {
 public:
  explicit Run(Options o) : o_(std::move(o)), timer_(ioc_), input_(ioc_) {
    request_ = "GET " + o_.path + " HTTP/1.1\r\nHost: " + o_.host +
               "\r\nUser-Agent: node-agent-load\r\n\r\n";
  }

  int execute();

  // Called by connections.
  const std::string& request() const { return request_; }
  const tcp::endpoint& endpoint() const { return endpoint_; }
  void on_connected(Conn& c);
  void on_connect_failed();
  void on_response(Conn& c, const Parsed& p);
  void on_closed(Conn& c, bool mid_response, bool awaiting);
  Stats stats;

 private:
  void connect_more();
  void finish_if_done();
  void finish();
  void hold_settled();
  void print_summary(double seconds, bool timed_out);
  void wait_for_stdin_eof();

  Options o_;
  asio::io_context ioc_{1};
  asio::steady_timer timer_;
  asio::posix::stream_descriptor input_;
  std::array<char, 256> input_buf_{};
  tcp::endpoint endpoint_;
  std::string request_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::size_t started_ = 0;     // connections whose connect was started
  std::size_t connecting_ = 0;  // connects in flight
  std::uint64_t issued_ = 0;    // requests mode
  std::uint64_t settled_ = 0;   // requests mode: answered or failed
  std::size_t open_ = 0;
  int phase_ = 0;                  // hold: 0 first answers, 1 holding, 2 second answers
  std::size_t phase_answers_ = 0;  // hold: answers in the current phase
  std::size_t first_answers_ = 0;  // hold: answers in phase 0
  std::size_t phase_settled_ = 0;  // hold phase 0: answered, refused or closed
  std::size_t pending_ = 0;        // hold phase 2: requests sent, not yet settled
  bool running_printed_ = false;
  bool done_ = false;
};

void Conn::start() {
  auto self = shared_from_this();
  socket_.async_connect(run_.endpoint(), [self](error_code ec) {
    if (ec) {
      self->run_.on_connect_failed();
      return;
    }
    self->connected_ = true;
    self->socket_.set_option(tcp::no_delay(true));
    self->run_.on_connected(*self);
  });
}

void Conn::send() {
  awaiting_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(run_.request()), [self](error_code ec, std::size_t) {
    if (ec) {
      // The server closed first; the read side tells whether it answered.
      return;
    }
  });
  read();
}

void Conn::read() {
  auto self = shared_from_this();
  socket_.async_read_some(asio::buffer(chunk_),
                          [self](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void Conn::on_read(error_code ec, std::size_t n) {
  if (ec) {
    const bool mid = !buf_.empty();
    const bool awaiting = awaiting_;
    awaiting_ = false;
    close();
    run_.on_closed(*this, mid, awaiting);
    return;
  }
  buf_.append(chunk_.data(), n);
  Parsed p = parse_response(buf_);
  if (p.kind == Parsed::Kind::kIncomplete) {
    read();
    return;
  }
  if (p.kind == Parsed::Kind::kMalformed) {
    run_.stats.malformed++;
    awaiting_ = false;
    buf_.clear();
    close();
    run_.on_closed(*this, false, false);
    return;
  }
  awaiting_ = false;
  ++answers;
  run_.on_response(*this, p);
  buf_.erase(0, p.size);
  if (p.close) {
    // The server ends the connection after this answer; wait for the close to count it.
    if (open()) read();
    return;
  }
  // on_response() may have sent the next request, which reads by itself; otherwise keep a read
  // pending only to notice the close.
  if (open() && !awaiting_) read();
}

void Run::on_connected(Conn& c) {
  --connecting_;
  ++open_;
  if (o_.mode == "requests") {
    if (issued_ < o_.requests) {
      ++issued_;
      c.send();
    }
  } else {
    c.send();
  }
  connect_more();
}

void Run::on_connect_failed() {
  --connecting_;
  stats.io_errors++;
  if (o_.mode == "requests") ++settled_;
  if (o_.mode == "hold") hold_settled();
  connect_more();
  finish_if_done();
}

void Run::on_response(Conn& c, const Parsed& p) {
  if (p.status != 200) {
    stats.non_200++;
  } else if (!o_.expect.empty() && !p.body.starts_with(o_.expect)) {
    stats.bad_body++;
  } else {
    stats.ok++;
  }
  if (o_.mode == "requests") {
    ++settled_;
    if (issued_ < o_.requests && !p.close) {
      ++issued_;
      c.send();
    }
    finish_if_done();
  } else if (o_.mode == "hold") {
    ++phase_answers_;
    if (phase_ == 0) {
      ++first_answers_;
      hold_settled();
    } else if (phase_ == 2 && --pending_ == 0) {
      finish();
    }
  } else {  // drain
    if (!running_printed_ && stats.ok >= 1000) {
      running_printed_ = true;
      std::printf("running\n");
      std::fflush(stdout);
    }
    if (!p.close) c.send();
  }
}

void Run::on_closed(Conn&, bool mid_response, bool awaiting) {
  --open_;
  stats.closed_by_server++;
  if (mid_response) {
    stats.partial++;
  } else if (awaiting) {
    stats.unanswered++;
  }
  if (o_.mode == "requests" && awaiting) ++settled_;
  if (o_.mode == "hold") {
    // A held connection that is dropped is simply missing from the answers counted.
    if (phase_ == 0 && awaiting) hold_settled();
    if (phase_ == 2 && awaiting && --pending_ == 0) finish();
    return;
  }
  finish_if_done();
}

void Run::connect_more() {
  // Bounded connects in flight, so 10,000 clients do not overflow the listen backlog at once.
  while (started_ < o_.connections && connecting_ < 256) {
    auto c = std::make_shared<Conn>(*this, ioc_);
    conns_.push_back(c);
    ++started_;
    ++connecting_;
    c->start();
  }
}

void Run::finish_if_done() {
  if (done_) return;
  if (o_.mode == "requests" && settled_ >= o_.requests) done_ = true;
  if (o_.mode == "drain" && started_ == o_.connections && connecting_ == 0 && open_ == 0) {
    done_ = true;
  }
  if (done_) ioc_.stop();
}

void Run::finish() {
  done_ = true;
  ioc_.stop();
}

void Run::hold_settled() {
  if (++phase_settled_ < o_.connections) return;
  phase_ = 1;
  std::printf("holding %zu\n", first_answers_);
  std::fflush(stdout);
  wait_for_stdin_eof();
}

void Run::wait_for_stdin_eof() {
  input_.async_read_some(asio::buffer(input_buf_), [this](error_code ec, std::size_t) {
    if (!ec) {
      wait_for_stdin_eof();
      return;
    }
    // Second round: every held connection must still answer.
    phase_ = 2;
    phase_answers_ = 0;
    for (auto& c : conns_) {
      if (c->open()) {
        ++pending_;
        c->send();
      }
    }
    if (pending_ == 0) finish();
  });
}

void Run::print_summary(double seconds, bool timed_out) {
  std::uint64_t errors =
      stats.non_200 + stats.bad_body + stats.malformed + stats.partial + stats.io_errors;
  if (o_.mode == "requests") errors += stats.unanswered;
  std::size_t held = 0;
  for (auto& c : conns_) held += c->open() ? 1 : 0;
  std::printf(
      "{\"mode\":\"%s\",\"connections\":%zu,\"ok\":%llu,\"errors\":%llu,\"non_200\":%llu,"
      "\"bad_body\":%llu,\"malformed\":%llu,\"partial\":%llu,\"unanswered\":%llu,"
      "\"io_errors\":%llu,\"closed_by_server\":%llu,\"still_open\":%zu,\"first_answers\":%zu,"
      "\"last_answers\":%zu,"
      "\"seconds\":%.3f,\"rps\":%.0f,\"timed_out\":%s}\n",
      o_.mode.c_str(), o_.connections, static_cast<unsigned long long>(stats.ok),
      static_cast<unsigned long long>(errors), static_cast<unsigned long long>(stats.non_200),
      static_cast<unsigned long long>(stats.bad_body),
      static_cast<unsigned long long>(stats.malformed),
      static_cast<unsigned long long>(stats.partial),
      static_cast<unsigned long long>(stats.unanswered),
      static_cast<unsigned long long>(stats.io_errors),
      static_cast<unsigned long long>(stats.closed_by_server), held, first_answers_,
      phase_ == 2 ? phase_answers_ : 0, seconds,
      seconds > 0 ? static_cast<double>(stats.ok) / seconds : 0.0, timed_out ? "true" : "false");
  std::fflush(stdout);
}

int Run::execute() {
  error_code ec;
  endpoint_ = tcp::endpoint(asio::ip::make_address(o_.host, ec), o_.port);
  if (ec) {
    std::fprintf(stderr, "node-agent-load: --host %s: %s\n", o_.host.c_str(), ec.message().c_str());
    return 2;
  }
  if (o_.mode == "hold") input_.assign(::dup(0));  // must be a pipe or a terminal
  const auto start = std::chrono::steady_clock::now();
  bool timed_out = false;
  timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(o_.max_seconds)));
  timer_.async_wait([&](error_code e) {
    if (e) return;
    timed_out = true;
    ioc_.stop();
  });
  connect_more();
  ioc_.run();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_summary(seconds, timed_out);
  if (timed_out) return 3;
  std::uint64_t errors =
      stats.non_200 + stats.bad_body + stats.malformed + stats.partial + stats.io_errors;
  if (o_.mode == "requests") {
    return errors == 0 && stats.unanswered == 0 && stats.ok == o_.requests ? 0 : 1;
  }
  if (o_.mode == "hold") {
    return errors == 0 && first_answers_ == o_.connections && phase_ == 2 &&
                   phase_answers_ == o_.connections
               ? 0
               : 1;
  }
  return errors == 0 ? 0 : 1;
}

bool raise_fd_limit(std::size_t need) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= need) return true;
  rlimit want{need, std::max<rlim_t>(rl.rlim_max, need)};
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) return true;
  want = {rl.rlim_max, rl.rlim_max};  // not root: as far as the hard limit goes
  setrlimit(RLIMIT_NOFILE, &want);
  return rl.rlim_max >= need;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "node-agent-load: %s\nusage: node-agent-load requests|hold|drain --port P "
               "[--host H] [--connections C] [--requests N] [--path P] [--expect TEXT] "
               "[--max-seconds S]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("missing mode");
  Options o;
  o.mode = argv[1];
  if (o.mode != "requests" && o.mode != "hold" && o.mode != "drain") return usage("unknown mode");
  o.path = o.mode == "hold" ? "/healthz" : "/";
  for (int i = 2; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) return usage("flag without value");
    const char* value = argv[++i];
    if (flag == "--host")
      o.host = value;
    else if (flag == "--port")
      o.port = static_cast<std::uint16_t>(std::atoi(value));
    else if (flag == "--connections")
      o.connections = std::strtoull(value, nullptr, 10);
    else if (flag == "--requests")
      o.requests = std::strtoull(value, nullptr, 10);
    else if (flag == "--path")
      o.path = value;
    else if (flag == "--expect")
      o.expect = value;
    else if (flag == "--max-seconds")
      o.max_seconds = std::atof(value);
    else
      return usage("unknown flag");
  }
  if (o.port == 0) return usage("--port is required");
  if (o.connections == 0) return usage("--connections must be > 0");
  if (o.mode == "requests" && o.requests == 0) return usage("--requests must be > 0");
  if (!raise_fd_limit(o.connections + 64)) {
    std::fprintf(stderr, "node-agent-load: RLIMIT_NOFILE too low for %zu connections\n",
                 o.connections);
    return 2;
  }
  Run run(o);
  return run.execute();
}
