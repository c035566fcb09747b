#include "agent/agent.h"

#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "agent/privileges.h"
#include "agent/self_metrics.h"
#include "agent/self_proc.h"
#include "agent/self_report.h"
#include "log/log.h"

namespace nodeagent::agent {
namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Agent::Agent(Config config, nodeinfo::HostFs fs, Result<nodeinfo::HostRoot> self_proc)
    : config_(std::move(config)),
      fs_(std::move(fs)),
      self_proc_(std::move(self_proc)),
      start_time_seconds_(unix_now()),
      feed_(std::make_shared<http::Feed>()) {}

Result<std::unique_ptr<Agent>> Agent::create(Config config) {
  auto fs = nodeinfo::HostFs::open(config.procfs, config.sysfs);
  if (!fs) {
    log::error("cannot open host root", {{"reason", nodeinfo::describe_path_error(fs.error())}});
    return fs.error();
  }
  if (!config.rootfs.empty()) {
    auto root = nodeinfo::HostRoot::open(config.rootfs);
    if (!root) {
      log::error("cannot open host root",
                 {{"reason", nodeinfo::describe_path_error(root.error())}, {"flag", "--rootfs"}});
      return root.error();
    }
    fs->rootfs = std::move(*root);
  }
  auto self_proc = open_self_proc();
  // PID 1's namespace links are only readable while still privileged.
  const HostNamespaces namespaces = compare_host_namespaces(fs->procfs, self_proc);
  std::unique_ptr<Agent> agent(new Agent(std::move(config), std::move(*fs), std::move(self_proc)));
  const Config& c = agent->config_;

  for (const AccessList::Masked& m : c.access.masked()) {
    log::warn("--allow-cidr has host bits set: masked",
              {{"given", m.given}, {"effective", m.effective}});
  }

  // Filled in below once the sockets are bound and privileges dropped, before any request.
  auto agent_report = std::make_shared<std::string>();
  auto heartbeat = std::make_shared<Heartbeat>();
  RouteContext context{agent->feed_, agent_report, 3 * c.interval + std::chrono::seconds(1),
                       agent->shutting_down_};
  context.heartbeat = heartbeat;
  context.stalled_after = stall_threshold(c.interval);
  auto router =
      std::make_shared<Router>(agent->board_, c.access, std::move(context), agent->counters_);
  http::ServerOptions options;
  options.listen = c.listen;
  if (c.threads != 0) options.threads = c.threads;
  options.limits.max_connections = c.max_connections;
  options.socket_mode = c.socket_mode;
  options.node_name = c.node_name;
  if (::geteuid() == 0 && !c.allow_root) {
    // The socket belongs to the user the agent becomes, so it can still remove it at shutdown.
    options.socket_owner = static_cast<std::int64_t>(c.user);
    options.socket_group = static_cast<std::int64_t>(c.user);
  }
  if (c.socket_group) options.socket_group = static_cast<std::int64_t>(*c.socket_group);
  agent->server_ = std::make_unique<http::Server>(
      std::move(options),
      [router](const http::Request& request) { return router->handle(request); });
  if (auto narrowed = narrow_for_bind(needs_low_port(c.listen)); !narrowed) {
    log::error("cannot drop privileges", {{"reason", narrowed.error().detail}});
    return narrowed.error();
  }
  if (auto bound = agent->server_->listen(); !bound) {
    log::error("cannot listen", {{"reason", bound.error().message()}});
    return Error{Errc::kUnavailable, "cannot listen: " + bound.error().message()};
  }
  // Before any thread starts: capability sets are per thread.
  auto dropped = drop_privileges({.user = c.user, .allow_root = c.allow_root});
  if (!dropped) {
    log::error("cannot drop privileges", {{"reason", dropped.error().detail}});
    return dropped.error();
  }
  log_privilege_change(*dropped);
  // The roots were opened while privileged; the user we now are must still read below them.
  if (auto readable = agent->fs_.check_readable(); !readable) {
    log::error("cannot read host root after dropping privileges",
               {{"uid", static_cast<std::uint64_t>(::geteuid())},
                {"reason", nodeinfo::describe_path_error(readable.error())}});
    return readable.error();
  }
  *agent_report = render_self_report(
      make_self_report(c, *dropped, namespaces, agent->server_->bound_addresses()));

  nodeinfo::SourceOptions sources{
      {}, agent->fs_, real_clock(), ::sysconf(_SC_CLK_TCK), c.node_name};
  sources.diskstats_device_exclude = c.diskstats_device_exclude;
  sources.netdev_device_exclude = c.netdev_device_exclude;
  sources.vmstat_fields = c.vmstat_fields;
  sources.filesystem_mount_points_exclude = c.filesystem_mount_points_exclude;
  sources.filesystem_fs_types_exclude = c.filesystem_fs_types_exclude;
  sources.filesystem_timeout = c.filesystem_mount_timeout;
  if (sources.clk_tck <= 0) sources.clk_tck = 100;
  nodeinfo::Sampler sampler(sources, {c.sources_disabled, c.sources_enabled});
  for (const std::string& why : sampler.skipped()) log::info("source off", {{"reason", why}});
  std::string running;
  for (const std::string& name : sampler.running()) running += (running.empty() ? "" : ",") + name;
  log::info("sources", {{"running", running}});
  Agent* self = agent.get();
  agent->sampling_ = std::make_unique<SamplingLoop>(
      std::move(sampler), c.interval, agent->board_, agent->feed_,
      [self](const nodeinfo::Snapshot& s, double seconds) {
        return self->self_metrics(s, seconds);
      },
      heartbeat);
  return agent;
}

std::string Agent::self_metrics(const nodeinfo::Snapshot& snapshot, double sample_seconds) const {
  SelfMetricsInput in{counters_, server_->stats(),
                      read_process_stats(start_time_seconds_, self_proc_)};
  in.sample_timestamp_seconds =
      std::chrono::duration<double>(snapshot.taken_at.time_since_epoch()).count();
  in.sample_duration_seconds = sample_seconds;
  in.sample_errors = snapshot.errors.size();
  return render_self_metrics(in);
}

int Agent::run() {
  log::info("starting", {{"node", config_.node_name},
                         {"procfs", config_.procfs.string()},
                         {"sysfs", config_.sysfs.string()},
                         {"interval_ms", static_cast<std::int64_t>(config_.interval.count())}});
  // Thread creation fails typically at RLIMIT_NPROC (a container's pids limit) below --threads:
  // say so, exit 1.
  constexpr std::string_view kThreadsHint = "lower --threads or raise the process limit";
  if (auto started = sampling_->start(); !started) {
    log::error("cannot start threads",
               {{"error", started.error().code.message()}, {"hint", kThreadsHint}});
    return 1;
  }
  if (auto served = server_->run(); !served) {
    log::error("cannot start threads",
               {{"error", served.error().message()}, {"hint", kThreadsHint}});
    if (!sampling_->stop()) std::_Exit(1);
    return 1;
  }
  if (!sampling_->stop()) {
    // The sampling thread is stuck in a read and still uses fs_ and the Sampler: returning would
    // destroy them under it. End the process here; the log is written unbuffered.
    log::info("stopped", {{"requests", server_->stats().requests_total.load()}});
    std::_Exit(1);
  }
  // The fault test checks every request the server read got a full answer: it compares this
  // count with the complete responses its clients received.
  log::info("stopped", {{"requests", server_->stats().requests_total.load()}});
  return 0;
}

void Agent::stop() {
  shutting_down_->store(true);
  server_->stop();
  feed_->close();
}

void Agent::shutdown() {
  shutting_down_->store(true);
  // The streams end with the drain, like every other connection.
  server_->stop_after(config_.shutdown_delay);
}

}  // namespace nodeagent::agent
