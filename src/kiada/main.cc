// Kiada 0.9: a workload that shows which pod and node served the request, plus what the node
// agent on the same node says about that node.

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <thread>

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

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  double ms = unit == "ms" ? value : (unit == "s" || unit.empty()) ? value * 1000 : -1;
  if (!(ms >= 1) || ms > 3600e3) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Kiada 0.9: shows the pod, its node, and the local node agent's report"};
  unsigned port = 8080;
  std::string listen_address;
  std::string agent_url;
  std::string timeout_text = "1s";
  unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::string log_level = "info";
  cli.add_option("--listen-port", port, "TCP port on all addresses")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  cli.add_option("--listen-address", listen_address,
                 "Overrides --listen-port: host:port, :port, [::1]:port or unix:///path");
  cli.add_option("--agent-url", agent_url,
                 "Node agent URL; default NODE_AGENT_URL, else http://$NODE_IP:11559");
  cli.add_option("--agent-timeout", timeout_text, "Budget per agent call (e.g. 500ms, 1s)")
      ->capture_default_str();
  cli.add_option("--threads", threads, "HTTP event-loop threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cli.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  // Signals are taken by one thread with sigwait and turned into a graceful stop; blocked first
  // thing, before any thread starts (the agent fetcher starts one), so that every thread inherits
  // the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto level = log::parse_level(log_level);
  auto timeout = parse_duration(timeout_text);
  auto address = http::parse_listen_address(listen_address.empty() ? fmt::format(":{}", port)
                                                                   : listen_address);
  if (!level || !timeout || !address) {
    std::cerr << "kiada: "
              << (!level     ? "bad --log-level " + log_level
                  : !timeout ? "bad --agent-timeout " + timeout_text
                             : "bad --listen-address: " + address.error().message())
              << "\n";
    return 2;
  }
  log::set_level(*level);

  kiada::PodInfo pod;
  pod.pod_hostname = hostname();
  pod.pod_name = env_or("POD_NAME", pod.pod_hostname);
  pod.node_name = env_or("NODE_NAME", pod.pod_hostname);
  pod.pod_ip = env_or("POD_IP", "unknown");
  pod.node_ip = env_or("NODE_IP", "unknown");

  auto discovery = client::discover(agent_url.empty() ? std::nullopt
                                                      : std::optional<std::string_view>(agent_url));
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
  options.timeout = *timeout;
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

  std::thread([signals, &server, &feed]() mutable {
    int sig = 0;
    sigwait(&signals, &sig);
    log::info("stopping", {{"signal", sig}});
    feed->close();
    server.stop();
  }).detach();

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
