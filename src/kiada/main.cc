// Kiada 0.9: a workload that shows which pod and node served the request, plus what the node
// agent on the same node says about that node.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <thread>

#include "cli/duration.h"
#include "cli/process.h"
#include "http/server.h"
#include "kiada/app.h"
#include "kiada/node_info.h"
#include "kiada/relay.h"
#include "log/log.h"
#include "nodeagent/discovery.h"

namespace {

using namespace nodeagent;

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::move(fallback);
}

constexpr const char* kFooter =
    "Environment (set by the Downward API in a pod): POD_NAME, NODE_NAME (default: the\n"
    "hostname), POD_IP, NODE_IP, NODE_AGENT_URL ($(VAR) references expanded like the kubelet\n"
    "does), INITIAL_STATUS_MESSAGE. A line typed on stdin becomes the status message.\n"
    "\n"
    "Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot listen, 2 on a bad flag.\n";

}  // namespace

int main(int argc, char** argv) {
  CLI::App flags{"Kiada 0.9: shows the pod, its node, and the local node agent's report"};
  flags.footer(kFooter);
  unsigned port = 8080;
  std::string listen_address;
  std::string agent_url;
  std::string timeout_text = "1s";
  unsigned threads = std::clamp(std::thread::hardware_concurrency(), 2u, 64u);
  std::string log_level = "info";
  flags.add_option("--listen-port", port, "TCP port on all addresses")
      ->capture_default_str()
      ->type_name("PORT")
      ->check(CLI::Range(1, 65535));
  auto* listen_flag =
      flags
          .add_option("--listen-address", listen_address,
                      "Overrides --listen-port: host:port, :port, [::1]:port or unix:///path")
          ->type_name("ADDR");
  auto* agent_flag =
      flags
          .add_option("--agent-url", agent_url,
                      "Node agent URL; default NODE_AGENT_URL, else http://$NODE_IP:11559")
          ->type_name("URL");
  flags
      .add_option("--agent-timeout", timeout_text,
                  "Budget per agent call, 1ms to 1h (e.g. 500ms, 1s)")
      ->capture_default_str()
      ->type_name("DURATION");
  flags.add_option("--threads", threads, "HTTP event-loop threads")
      ->capture_default_str()
      ->type_name("N")
      ->check(CLI::Range(1, 64));
  flags.add_option("--log-level", log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->type_name("LEVEL");
  try {
    flags.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as the agent and the client do.
    return flags.exit(e) == 0 ? 0 : 2;
  }

  // Before any thread starts (the agent fetcher starts one): every thread inherits the mask.
  cli::block_stop_signals();
  auto level = log::parse_level(log_level);
  // 0 (out of range) when unreadable: one check below covers both.
  auto timeout = cli::parse_duration(timeout_text).value_or(std::chrono::milliseconds(0));
  bool timeout_ok = timeout >= std::chrono::milliseconds(1) && timeout <= std::chrono::hours(1);
  // Given but empty is an error, not "use the default".
  auto address = http::parse_listen_address(listen_flag->count() > 0 ? listen_address
                                                                     : fmt::format(":{}", port));
  if (!level || !timeout_ok || !address) {
    std::cerr << "kiada: "
              << (!level        ? "bad --log-level " + log_level
                  : !timeout_ok ? "bad --agent-timeout \"" + timeout_text +
                                      "\": a duration from 1ms to 1h (e.g. 500ms, 1s)"
                                : "bad --listen-address: " + address.error().message())
              << "\n";
    return 2;
  }
  log::set_level(*level);

  kiada::PodInfo pod;
  pod.pod_hostname = cli::hostname();
  pod.pod_name = env_or("POD_NAME", pod.pod_hostname);
  pod.node_name = env_or("NODE_NAME", pod.pod_hostname);
  pod.pod_ip = env_or("POD_IP", "unknown");
  pod.node_ip = env_or("NODE_IP", "unknown");

  auto discovery = client::discover(
      agent_flag->count() > 0 ? std::optional<std::string_view>(agent_url) : std::nullopt);
  if (!discovery && agent_flag->count() > 0) {
    // An explicit URL that cannot work is a bad flag. Without one, Kiada still starts and its
    // pages say that no agent is configured.
    std::cerr << "kiada: bad --agent-url \"" << agent_url << "\": " << discovery.error().message()
              << "\n";
    return 2;
  }
  std::string source;
  if (discovery) {
    source = discovery->describe();
    log::info("node agent", {{"source", std::string(client::to_string(discovery->source))},
                             {"url", discovery->endpoint.url}});
  } else {
    source = "none (" + discovery.error().message() + ")";
    log::warn("no node agent", {{"error", discovery.error().message()}});
  }

  client::ClientOptions options;
  options.timeout = timeout;
  options.user_agent = "kiada/0.9";
  kiada::NodeInfoFetcher fetcher(discovery, options);
  auto feed = std::make_shared<http::Feed>();
  kiada::StreamRelay relay(discovery, options, feed);
  auto status = std::make_shared<kiada::StatusMessage>(env_or("INITIAL_STATUS_MESSAGE", ""));

  kiada::App app(
      {pod, source,
       [&fetcher](std::function<void(std::string)> done) { fetcher.async_line(std::move(done)); },
       feed, status});
  http::ServerOptions server_options;
  server_options.listen.push_back(*address);
  server_options.threads = threads;
  http::Server server(server_options, [&app](const http::Request& r) { return app.handle(r); });
  if (auto r = server.listen(); !r) {
    log::error("listen failed", {{"error", r.error().message()}});
    return 1;
  }

  cli::StopSignalWaiter waiter([&server, &feed](std::string_view signal) {
    log::info("stopping", {{"signal", std::string(signal)}});
    feed->close();
    server.stop();
  });

  // A line typed on stdin becomes the status message. The reader blocks in getline for the
  // process's life (nothing can interrupt it portably), so it is detached and owns its state.
  std::thread([status] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      status->set(line);
      log::info("status message updated", {{"message", line}});
    }
  }).detach();

  relay.start();
  log::info(
      "kiada started",
      {{"version", std::string(kiada::kVersion)}, {"pod", pod.pod_name}, {"node", pod.node_name}});
  server.run();
  // Pending page views are answered (with a shutdown error) while the server still exists.
  relay.stop();
  fetcher.stop();
  return 0;
}
