#include "http/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include "http/internal.h"
#include "log/log.h"

namespace nodeagent::http {
namespace asio = boost::asio;
using boost::system::error_code;
using detail::Clock;

namespace detail {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"  // see listen_address.cc
class AnnotatedCategory final : public boost::system::error_category {
 public:
  AnnotatedCategory(std::string context, const boost::system::error_category& base)
      : context_(std::move(context)), base_(base) {}
  const char* name() const noexcept override { return base_.name(); }
  std::string message(int ev) const override { return context_ + ": " + base_.message(ev); }
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    return base_.default_error_condition(ev);
  }
  bool failed(int ev) const noexcept override { return base_.failed(ev); }

 private:
  std::string context_;
  const boost::system::error_category& base_;
};
#pragma GCC diagnostic pop

}  // namespace

error_code annotate(std::string_view context, error_code ec) {
  // error_code cannot carry text, so each (context, category) pair gets an interned category.
  // Only start-up errors are annotated, so the table stays tiny.
  static std::mutex mutex;
  static std::map<std::pair<std::string, const boost::system::error_category*>,
                  std::unique_ptr<AnnotatedCategory>>
      categories;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(std::string(context), &ec.category());
  auto& category = categories[key];
  if (!category) category = std::make_unique<AnnotatedCategory>(key.first, ec.category());
  return {ec.value(), *category};
}

}  // namespace detail

namespace {

using GenericEndpoint = asio::generic::stream_protocol::endpoint;
using Acceptor =
    asio::basic_socket_acceptor<asio::generic::stream_protocol, asio::io_context::executor_type>;

constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// At most this many queued connections are served on stop() (the kernel caps a backlog at
// net.core.somaxconn, 4096 by default).
constexpr std::size_t kMaxQueuedOnStop = 4096;
constexpr auto kRejectLogInterval = std::chrono::seconds(10);

RemoteAddress to_remote(const GenericEndpoint& endpoint) {
  RemoteAddress out;
  const sockaddr* sa = endpoint.data();
  if (sa->sa_family == AF_INET && endpoint.size() >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    out.ip = asio::ip::address_v4(ntohl(in.sin_addr.s_addr));
    out.port = ntohs(in.sin_port);
  } else if (sa->sa_family == AF_INET6 && endpoint.size() >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof in6);
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    asio::ip::address_v6 v6(bytes, in6.sin6_scope_id);
    if (v6.is_v4_mapped()) {
      out.ip = asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
    } else {
      out.ip = v6;
    }
    out.port = ntohs(in6.sin6_port);
  }
  return out;
}

bool is_resource_error(const error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  int v = ec.value();
  return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
}

error_code errno_code() { return {errno, boost::system::system_category()}; }

}  // namespace

struct Listener {
  Listener(ListenAddress a, asio::io_context& ioc)
      : address(std::move(a)), acceptor(ioc), backoff(ioc) {}
  ListenAddress address;
  std::string name;  // bound address, for logs and bound_addresses()
  Acceptor acceptor;
  GenericEndpoint peer;
  asio::steady_timer backoff;
  bool in_error_burst = false;
  bool owns_file = false;  // unix socket file we created (removed on close)
  dev_t file_dev = 0;
  ino_t file_ino = 0;
};

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler) : options_(std::move(options)) {
    if (options_.threads == 0) options_.threads = std::max(1u, std::thread::hardware_concurrency());
    shared_.limits = options_.limits;
    if (options_.clock != nullptr) shared_.clock = options_.clock;
    for (char c : options_.node_name) {
      if (c <= ' ' || c > '~') {
        throw std::invalid_argument("http::Server: node_name must be visible ASCII");
      }
    }
    if (!options_.node_name.empty()) {
      shared_.node_field = "Node-Name: " + options_.node_name + "\r\n";
    }
    shared_.sse_preamble = "retry: " + std::to_string(options_.sse_retry.count()) + "\n\n";
    shared_.sse_heartbeat =
        std::max<Clock::duration>(options_.sse_heartbeat, std::chrono::milliseconds(10));
    shared_.handler = std::move(handler);
    if (!shared_.handler) throw std::invalid_argument("http::Server: handler is empty");
    workers_.reserve(options_.threads);
    for (unsigned i = 0; i < options_.threads; ++i) {
      workers_.push_back(std::make_unique<detail::Worker>(shared_));
    }
  }

  ~Impl() {
    stop();
    join();
    for (auto& l : listeners_) close_listener(*l);
  }

  Result<void> listen() {
    std::lock_guard lock(mutex_);
    if (listened_) return {};
    if (shared_.stopping.load()) {
      return Error{detail::annotate("listen", asio::error::operation_aborted)};
    }
    if (options_.listen.empty()) {
      return Error{detail::annotate("listen", make_error_code(AddressError::kEmpty))};
    }
    for (std::size_t i = 0; i < options_.listen.size(); ++i) {
      auto listener = std::make_unique<Listener>(options_.listen[i], accept_ioc_);
      error_code ec = listener->address.is_unix() ? bind_unix(*listener) : bind_tcp(*listener);
      if (ec) {
        close_listener(*listener);
        for (auto& l : listeners_) close_listener(*l);
        listeners_.clear();
        return Error{detail::annotate(to_string(options_.listen[i]), ec)};
      }
      listeners_.push_back(std::move(listener));
    }
    listened_ = true;
    for (auto& l : listeners_) {
      log::info("listening", {{"address", l->name}});
      Listener* p = l.get();
      asio::post(accept_ioc_, [this, p] { do_accept(*p); });
    }
    return {};
  }

  std::vector<std::string> bound_addresses() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& l : listeners_) out.push_back(l->name);
    return out;
  }

  Result<void> run() {
    if (auto listening = listen_once(); !listening) return listening;
    std::vector<std::thread> extra;
    try {
      extra.emplace_back([this] { run_acceptors(); });
      for (std::size_t i = 1; i < workers_.size(); ++i) {
        extra.emplace_back([w = workers_[i].get()] { w->run(); });
      }
    } catch (const std::system_error& e) {
      abandon(extra);
      return thread_error(e);
    }
    workers_[0]->run();
    for (auto& t : extra) t.join();
    log_stopped();
    return {};
  }

  Result<void> start() {
    if (auto listening = listen_once(); !listening) return listening;
    std::lock_guard lock(mutex_);
    if (!threads_.empty()) return {};
    try {
      threads_.emplace_back([this] { run_acceptors(); });
      for (auto& w : workers_) threads_.emplace_back([w = w.get()] { w->run(); });
    } catch (const std::system_error& e) {
      abandon(threads_);
      return thread_error(e);
    }
    return {};
  }

  Result<void> listen_once() { return listened() ? Result<void>() : listen(); }

  // std::thread reports a thread it cannot create (RLIMIT_NPROC, memory) by throwing; this is
  // the one place that turns it into a value.
  static Error thread_error(const std::system_error& e) {
    return Error{boost::system::error_code(e.code().value(), boost::system::system_category()),
                 "cannot start an event-loop thread"};
  }

  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    if (threads.empty()) return;
    for (auto& t : threads) t.join();
    log_stopped();
  }

  void stop_after(std::chrono::milliseconds delay) {
    if (delay <= std::chrono::milliseconds::zero()) {
      stop();
      return;
    }
    std::lock_guard lock(mutex_);
    if (shared_.stopping.load() || shared_.closing.exchange(true)) return;
    log::info("http server closing: still serving until the shutdown delay ends",
              {{"delay_ms", static_cast<std::int64_t>(delay.count())}});
    asio::post(accept_ioc_, [this, delay] {
      delay_timer_.expires_after(delay);
      delay_timer_.async_wait([this](error_code ec) {
        if (!ec) stop();
      });
    });
  }

  bool closing() const { return shared_.closing_connections(); }

  void stop() {
    std::lock_guard lock(mutex_);
    if (shared_.stopping.exchange(true)) return;
    asio::post(accept_ioc_, [this] { delay_timer_.cancel(); });
    if (listened_) {
      log::info("http server draining",
                {{"connections", shared_.stats.connections_open.load()},
                 {"timeout_ms", static_cast<std::int64_t>(shared_.limits.drain_timeout.count())}});
    }
    // The accept loop closes the listeners, hands the connections still queued in them to the
    // workers, and only then tells the workers to drain: a session it posts to a worker is
    // registered before that worker's drain begins, so no worker finishes while one is on its
    // way, and no client the kernel had already connected is reset.
    asio::post(accept_ioc_, [this] {
      for (auto& l : listeners_) close_listener(*l, /*serve_queued=*/true);
      for (auto& w : workers_) {
        detail::Worker* p = w.get();
        asio::post(p->ioc(), [p] { p->begin_drain(); });
      }
      accept_work_.reset();
    });
  }

  bool stopping() const { return shared_.stopping.load(); }

  const ServerStats& stats() const {
    std::uint64_t total = 0;
    for (const auto& w : workers_) total += w->requests();
    shared_.stats.requests_total.store(total, std::memory_order_relaxed);
    return shared_.stats;
  }

 private:
  bool listened() const {
    std::lock_guard lock(mutex_);
    return listened_;
  }

  // A thread could not be created (e.g. RLIMIT_NPROC): stop every loop at once and join the
  // threads that did start, so the caller gets the exception instead of std::terminate.
  void abandon(std::vector<std::thread>& threads) {
    shared_.stopping.store(true);
    accept_ioc_.stop();
    for (auto& w : workers_) w->ioc().stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }

  // Accepting has its own loop so that a handler busy on a worker never delays accepting, nor
  // closing the listening sockets on stop().
  void run_acceptors() {
    for (;;) {
      try {
        accept_ioc_.run();
        return;
      } catch (const std::exception& e) {
        log::error("http accept loop error", {{"error", e.what()}});
      }
    }
  }

  void log_stopped() {
    log::info("http server stopped", {{"forced_closes", shared_.stats.drain_forced_closes.load()}});
  }

  error_code bind_tcp(Listener& l) {
    const ListenAddress& a = l.address;
    auto try_bind = [&](const asio::ip::tcp::endpoint& ep, bool dual_stack) {
      error_code ec;
      l.acceptor.close(ec);
      l.acceptor.open(asio::generic::stream_protocol(ep.protocol().family(), IPPROTO_TCP), ec);
      if (ec) return ec;
      l.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      if (ec) return ec;
      // An old and a new agent may listen on one port at once (a surge rollout of a
      // host-network DaemonSet); the kernel spreads new connections over both.
      l.acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true),
                            ec);
      if (ec) return ec;
      if (dual_stack) {
        l.acceptor.set_option(asio::ip::v6_only(false), ec);
        if (ec) return ec;
      }
      l.acceptor.bind(GenericEndpoint(ep), ec);
      if (ec) return ec;
      l.acceptor.listen(asio::socket_base::max_listen_connections, ec);
      return ec;
    };
    error_code ec;
    if (a.host.empty()) {
      ec = try_bind(asio::ip::tcp::endpoint(asio::ip::tcp::v6(), a.port), true);
      if (ec == asio::error::address_family_not_supported ||
          ec == boost::system::errc::address_not_available) {
        // No IPv6 on this host: all IPv4 addresses then.
        ec = try_bind(asio::ip::tcp::endpoint(asio::ip::tcp::v4(), a.port), false);
      }
    } else {
      auto ip = a.host == "localhost" ? asio::ip::address(asio::ip::address_v4::loopback())
                                      : asio::ip::make_address(a.host, ec);
      if (ec) return ec;
      ec = try_bind(asio::ip::tcp::endpoint(ip, a.port), false);
    }
    if (ec) return ec;
    auto local = l.acceptor.local_endpoint(ec);
    if (ec) return ec;
    RemoteAddress bound = to_remote(local);
    l.name = bound.ip ? bound.to_string() : to_string(a);
    return {};
  }

  // The socket is bound under a temporary name in the same directory, given its mode and owner
  // there, set listening, and only then rename()d over the path. So the path always names a
  // socket that accepts (an old agent's until the rename, ours after it: no connect in between
  // fails), and nothing here follows a name someone could swap for a symlink: the mode and
  // owner are set through an O_PATH descriptor of the file bind() created, and the rename only
  // happens if the temporary name still is that file.
  error_code bind_unix(Listener& l) {
    const std::string& path = l.address.path;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return make_error_code(AddressError::kNotASocket);
    } else if (errno != ENOENT) {
      return errno_code();
    }
    const auto slash = path.rfind('/');
    const std::string dir = path.substr(0, slash + 1);
    error_code ec;
    std::string temp;
    for (int attempt = 0;; ++attempt) {
      temp = dir + ".na-" + random_suffix();
      if (temp.size() >= sizeof(sockaddr_un::sun_path)) {
        return make_error_code(AddressError::kUnixPathTooLong);
      }
      l.acceptor.close(ec);
      l.acceptor.open(asio::generic::stream_protocol(AF_UNIX, 0), ec);
      if (ec) return ec;
      // bind() creates the file with the socket's own mode bits minus the umask. With both set
      // to the mode asked for, the file gets exactly that mode from the start: nothing has to
      // fix it by name later (and this needs no /proc, which a chroot may lack). The agent binds
      // before it starts any other thread, so no one else sees the umask change.
      const mode_t mode = options_.socket_mode & 0777;
      if (::fchmod(l.acceptor.native_handle(), mode) != 0) return errno_code();
      const mode_t old_umask = ::umask(~mode & 0777);
      l.acceptor.bind(GenericEndpoint(asio::local::stream_protocol::endpoint(temp)), ec);
      ::umask(old_umask);
      if (ec != asio::error::address_in_use || attempt == 10) break;
    }
    if (ec) return ec;
    ec = adopt_socket_file(l, temp);
    if (!ec) l.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) {
      const bool replacing = ::lstat(path.c_str(), &st) == 0;
      struct stat now {};
      if (::lstat(temp.c_str(), &now) != 0 || now.st_dev != l.file_dev ||
          now.st_ino != l.file_ino) {
        // Someone replaced our temporary file: never move their file over the path.
        ec = make_error_code(AddressError::kNotASocket);
      } else if (::rename(temp.c_str(), path.c_str()) != 0) {
        ec = errno_code();
      } else if (replacing) {
        log::info("replaced an existing unix socket", {{"path", path}});
      }
    }
    if (ec) {
      remove_if_ours(temp, l.file_dev, l.file_ino);
      l.owns_file = false;
      return ec;
    }
    l.name = to_string(l.address);
    return {};
  }

  // Takes the file bind() created at `temp`: records its identity, checks its mode and sets its
  // owner, through one O_PATH descriptor that never follows a symlink.
  error_code adopt_socket_file(Listener& l, const std::string& temp) {
    const int fd = ::open(temp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno_code();
    struct FdCloser {
      int fd;
      ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return errno_code();
    if (!S_ISSOCK(st.st_mode)) return make_error_code(AddressError::kNotASocket);
    l.owns_file = true;
    l.file_dev = st.st_dev;
    l.file_ino = st.st_ino;
    if (options_.socket_owner >= 0 || options_.socket_group >= 0) {
      if (::fchownat(fd, "", static_cast<uid_t>(options_.socket_owner),
                     static_cast<gid_t>(options_.socket_group), AT_EMPTY_PATH) != 0) {
        return errno_code();
      }
    }
    if ((st.st_mode & 0777) != (options_.socket_mode & 0777)) {
      return make_error_code(std::errc::operation_not_permitted);
    }
    return {};
  }

  static void remove_if_ours(const std::string& file, dev_t dev, ino_t ino) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino) {
      if (::unlink(file.c_str()) != 0) {
        log::warn("cannot remove unix socket", {{"path", file}, {"error", errno_code().message()}});
      }
    }
  }

  static std::string random_suffix() {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t x = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) ^
                      (static_cast<std::uint64_t>(::getpid()) << 32) ^
                      (counter++ * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    char out[9];
    std::snprintf(out, sizeof out, "%08x", static_cast<unsigned>(x));
    return out;
  }

  // On the listener's loop (or before the loops run, or after they stopped). With
  // `serve_queued` (on stop(), loops running), the connections the kernel completed but we had
  // not accepted yet are served like the others instead of being reset by close(). A unix
  // socket's file goes first, so that no connect can reach the listener after that; a TCP
  // listener can still get a SYN between the last accept and close().
  void close_listener(Listener& l, bool serve_queued = false) {
    if (l.owns_file) {
      l.owns_file = false;
      // Only remove the file if it is still ours: a newer agent may have replaced it.
      remove_if_ours(l.address.path, l.file_dev, l.file_ino);
    }
    error_code ec;
    if (serve_queued && l.acceptor.is_open()) {
      l.acceptor.cancel(ec);  // the pending async_accept ends with operation_aborted
      l.acceptor.non_blocking(true, ec);
      for (std::size_t n = 0; !ec && n < kMaxQueuedOnStop; ++n) {
        detail::Worker& target = next_worker();
        detail::Socket socket(target.ioc());
        l.acceptor.accept(socket, l.peer, ec);
        if (!ec) start_session(l, target, std::move(socket));
      }
    }
    l.acceptor.close(ec);
    l.backoff.cancel();
  }

  detail::Worker& next_worker() {
    return *workers_[next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_.size()];
  }

  void do_accept(Listener& l) {
    if (shared_.stopping.load(std::memory_order_relaxed) || !l.acceptor.is_open()) return;
    auto& target = next_worker();
    // The socket is created on the target loop directly: round-robin without a hand-off copy.
    l.acceptor.async_accept(target.ioc(), l.peer,
                            [this, &l, &target](error_code ec, detail::Socket socket) {
                              on_accept(l, target, ec, std::move(socket));
                            });
  }

  void on_accept(Listener& l, detail::Worker& target, error_code ec, detail::Socket socket) {
    if (ec == asio::error::operation_aborted) return;
    auto& stats = shared_.stats;
    if (ec) {
      stats.accept_errors.fetch_add(1, std::memory_order_relaxed);
      if (is_resource_error(ec)) {
        // Out of descriptors: retrying at once would spin on the still-ready listen socket.
        if (!l.in_error_burst) {
          l.in_error_burst = true;
          log::warn("accept failed, pausing accepts",
                    {{"address", l.name}, {"error", ec.message()}});
        }
        l.backoff.expires_after(kAcceptBackoff);
        l.backoff.async_wait([this, &l](error_code e) {
          if (!e) do_accept(l);
        });
        return;
      }
      log::debug("accept failed", {{"address", l.name}, {"error", ec.message()}});
      do_accept(l);
      return;
    }
    if (l.in_error_burst) {
      l.in_error_burst = false;
      log::info("accepting again", {{"address", l.name}});
    }
    // Accepted as stop() began: served like the others (do_accept then arms no further accept).
    start_session(l, target, std::move(socket));
    do_accept(l);
  }

  // A connection becomes a session on `target`, unless the server is at max_connections.
  void start_session(Listener& l, detail::Worker& target, detail::Socket socket) {
    auto& stats = shared_.stats;
    error_code ec;
    stats.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    auto open = stats.connections_open.fetch_add(1, std::memory_order_relaxed);
    if (open >= shared_.limits.max_connections) {
      stats.connections_open.fetch_sub(1, std::memory_order_relaxed);
      stats.connections_rejected.fetch_add(1, std::memory_order_relaxed);
      socket.close(ec);
      log_rejection();
      return;
    }
    // From here the session owns the connections_open increment.
    const bool tcp = !l.address.is_unix();
    auto session = std::make_shared<detail::Session>(
        shared_, target, std::move(socket), tcp ? to_remote(l.peer) : RemoteAddress{}, tcp);
    asio::post(target.ioc(), [session = std::move(session)] { session->start(); });
  }

  void log_rejection() {
    auto now = Clock::now().time_since_epoch().count();
    auto last = last_reject_log_.load(std::memory_order_relaxed);
    if (last != 0 &&
        now - last < std::chrono::duration_cast<Clock::duration>(kRejectLogInterval).count()) {
      return;
    }
    if (!last_reject_log_.compare_exchange_strong(last, now)) return;
    log::warn("connection limit reached, closing new connections",
              {{"max_connections", static_cast<std::uint64_t>(shared_.limits.max_connections)},
               {"rejected_total", shared_.stats.connections_rejected.load()}});
  }

  ServerOptions options_;
  mutable detail::Shared shared_;
  std::vector<std::unique_ptr<detail::Worker>> workers_;
  asio::io_context accept_ioc_{1};
  // Keeps the accept loop running until stop()'s handler has closed the listeners: without it
  // the loop could run out of work between stop() raising `stopping` and posting that handler.
  asio::executor_work_guard<asio::io_context::executor_type> accept_work_{
      accept_ioc_.get_executor()};
  asio::steady_timer delay_timer_{accept_ioc_};       // stop_after()
  std::vector<std::unique_ptr<Listener>> listeners_;  // acceptors live on accept_ioc_
  mutable std::mutex mutex_;
  bool listened_ = false;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_worker_{0};
  std::atomic<Clock::rep> last_reject_log_{0};
};

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
Server::~Server() = default;
Result<void> Server::listen() { return impl_->listen(); }
std::vector<std::string> Server::bound_addresses() const { return impl_->bound_addresses(); }
Result<void> Server::run() { return impl_->run(); }
Result<void> Server::start() { return impl_->start(); }
void Server::join() { impl_->join(); }
void Server::stop() { impl_->stop(); }
void Server::stop_after(std::chrono::milliseconds delay) { impl_->stop_after(delay); }
bool Server::closing() const { return impl_->closing(); }
bool Server::stopping() const { return impl_->stopping(); }
const ServerStats& Server::stats() const { return impl_->stats(); }

}  // namespace nodeagent::http
