// Kiada 0.9: a workload that shows which pod and node served the request, plus what the node
// agent on the same node says about that node.

#include <fmt/format.h>

#include <iostream>
#include <thread>

#include "cli/process.h"
#include "http/server.h"
#include "kiada/app.h"
#include "kiada/config.h"
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

}  // namespace

int main(int argc, char** argv) {
  auto parsed = kiada::parse_config(argc, argv, client::process_env()("NODE_NAME"),
                                    std::thread::hardware_concurrency());
  if (!parsed.config) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
    return parsed.exit_code;
  }
  const kiada::Config& config = *parsed.config;
  // Before any thread starts (the agent fetcher starts one): every thread inherits the mask.
  cli::block_stop_signals();
  log::set_level(config.log_level);

  kiada::PodInfo pod;
  pod.pod_hostname = cli::hostname();
  pod.pod_name = env_or("POD_NAME", pod.pod_hostname);
  pod.node_name = env_or("NODE_NAME", pod.pod_hostname);
  pod.pod_ip = env_or("POD_IP", "unknown");
  pod.node_ip = env_or("NODE_IP", "unknown");

  // An explicit URL has been validated by parse_config; without one Kiada still starts and its
  // pages say that no agent is configured.
  auto discovery = client::discover(config.agent_url);
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
  options.timeout = config.agent_timeout;
  options.user_agent = "kiada/0.9";
  options.expected_node = config.expected_node;
  options.retry.enabled = config.retry;
  if (config.expected_node.empty()) log::warn("locality check off: any node's agent is accepted");
  kiada::NodeInfoFetcher fetcher(discovery, options);
  auto feed = std::make_shared<http::Feed>();
  kiada::StreamRelay relay(discovery, options, feed);
  auto status = std::make_shared<kiada::StatusMessage>(env_or("INITIAL_STATUS_MESSAGE", ""));

  kiada::App app(
      {pod, source,
       [&fetcher](kiada::NodeInfoFetcher::Done done) { fetcher.async_line(std::move(done)); }, feed,
       status});
  http::ServerOptions server_options;
  server_options.listen.push_back(config.listen);
  server_options.threads = config.threads;
  http::Server server(server_options, [&app](const http::Request& r) { return app.handle(r); });
  if (auto r = server.listen(); !r) {
    log::error("listen failed", {{"error", r.error().message()}});
    return 1;
  }

  cli::StopSignalWaiter waiter([&server, &feed, &fetcher, &relay](std::string_view signal) {
    log::info("stopping", {{"signal", std::string(signal)}});
    // Pages waiting for the agent are answered (with the shutdown error) and agent calls are
    // cancelled before the server drains, so a hung agent cannot hold the exit.
    fetcher.stop();
    relay.stop();
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
  if (auto served = server.run(); !served) {
    log::error("cannot start threads", {{"error", served.error().message()}});
    relay.stop();
    fetcher.stop();
    return 1;
  }
  // Pending page views are answered (with a shutdown error) while the server still exists.
  relay.stop();
  fetcher.stop();
  return 0;
}
