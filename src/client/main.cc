// node-agent-client: asks the node agent on this node for its summary, snapshot or stream.
// Also usable as an exec readiness probe (`node-agent-client --get /readyz --quiet`) in images that
// have no shell or curl.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stop_token>
#include <string>

#include "cli/duration.h"
#include "cli/process.h"
#include "nodeagent/client.h"

namespace {

using nodeagent::client::Client;
using nodeagent::client::ClientOptions;
using nodeagent::client::Error;

constexpr int kOk = 0;
constexpr int kAgentError = 1;
constexpr int kUsage = 2;

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  success (--get: the agent answered 2xx)\n"
    "  1  agent error: unreachable, refused, timeout, non-2xx status, unparsable answer,\n"
    "     or the watch stream ended before --count events\n"
    "  2  usage or configuration error: bad flag, no agent configured, invalid URL\n"
    "\n"
    "Discovery: --url, else NODE_AGENT_URL ($(VAR) references expanded like the kubelet does),\n"
    "else http://$NODE_IP:11559. The source used is printed on stderr unless --quiet.\n";

int fail(const Error& e, bool quiet) {
  if (!quiet) fmt::print(stderr, "node-agent-client: {}\n", e.message());
  return kAgentError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Query the node agent running on this node."};
  app.footer(kExitCodes);
  std::string url;
  std::string timeout_text = "1s";
  bool as_json = false;
  bool watch = false;
  long count = 0;
  std::string get_path;
  bool quiet = false;
  app.add_option("--url", url, "Agent URL: http://host[:port][/prefix] or unix:///path.sock")
      ->type_name("URL");
  app.add_option("--timeout", timeout_text, "Per-call timeout, 1ms to 24h (e.g. 500ms, 1s)")
      ->capture_default_str()
      ->type_name("DURATION");
  auto* json_flag = app.add_flag("--json", as_json, "Print the /v1/node JSON snapshot");
  auto* watch_flag =
      app.add_flag("--watch", watch, "Print each /v1/node/watch event's JSON, one per line");
  app.add_option("--count", count, "With --watch: stop after N events (default: until SIGINT)")
      ->type_name("N")
      ->check(CLI::Range(1L, 1000000000L));
  auto* get_option =
      app.add_option("--get", get_path,
                     "GET this path (e.g. /readyz), print the body, exit 0 only on 2xx")
          ->type_name("PATH");
  app.add_flag("-q,--quiet", quiet, "No discovery line or error messages on stderr");
  json_flag->excludes(watch_flag)->excludes(get_option);
  watch_flag->excludes(get_option);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return e.get_exit_code() == 0 ? rc : kUsage;
  }
  if (count > 0 && !watch) {
    fmt::print(stderr, "node-agent-client: --count needs --watch\n");
    return kUsage;
  }
  const bool get = get_option->count() > 0;
  if (get && (get_path.empty() || get_path.front() != '/')) {
    fmt::print(stderr, "node-agent-client: --get needs an absolute path like /readyz\n");
    return kUsage;
  }
  auto timeout = nodeagent::cli::parse_duration(timeout_text);
  if (!timeout || *timeout < std::chrono::milliseconds(1) || *timeout > std::chrono::hours(24)) {
    fmt::print(stderr,
               "node-agent-client: bad --timeout \"{}\": a duration from 1ms to 24h (e.g. 500ms, "
               "1s)\n",
               timeout_text);
    return kUsage;
  }

  auto found = nodeagent::client::discover(url.empty() ? std::nullopt
                                                       : std::optional<std::string_view>(url));
  if (!found) {
    if (!quiet) fmt::print(stderr, "node-agent-client: {}\n", found.error().message());
    return kUsage;
  }
  if (!quiet) fmt::print(stderr, "agent: {}\n", found->describe());

  ClientOptions options;
  options.timeout = *timeout;
  Client client(found->endpoint, options);

  if (get) {
    auto r = client.get(get_path);
    if (!r) return fail(r.error(), quiet);
    std::fwrite(r->body.data(), 1, r->body.size(), stdout);  // --quiet silences stderr only
    if (r->status >= 200 && r->status <= 299) return kOk;
    return fail(nodeagent::client::bad_status(found->endpoint, get_path, *r), quiet);
  }
  if (as_json) {
    auto r = client.get("/v1/node", "application/json");
    if (!r) return fail(r.error(), quiet);
    if (r->status < 200 || r->status > 299) {
      return fail(nodeagent::client::bad_status(found->endpoint, "/v1/node", *r), quiet);
    }
    auto parsed = nodeagent::client::parse_node_json(r->body);
    if (!parsed) return fail(parsed.error(), quiet);
    std::string body = r->body;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    fmt::print("{}\n", body);
    return kOk;
  }
  if (watch) {
    // SIGINT or SIGTERM ends the watch cleanly (exit 0); the watch itself runs here.
    nodeagent::cli::block_stop_signals();
    std::stop_source stop;
    nodeagent::cli::StopSignalWaiter waiter(
        [stop](std::string_view) mutable { stop.request_stop(); });
    long seen = 0;
    auto r = client.watch(
        [&](const nodeagent::client::SseEvent& ev) {
          fmt::print("{}\n", ev.data);
          std::fflush(stdout);
          return count == 0 || ++seen < count;
        },
        stop.get_token());
    if (!r && r.error().code == nodeagent::client::ErrorCode::kCancelled) return kOk;
    if (!r) return fail(r.error(), quiet);
    return kOk;
  }
  auto line = client.text();
  if (!line) return fail(line.error(), quiet);
  fmt::print("{}\n", *line);
  return kOk;
}
