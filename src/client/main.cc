// node-agent-client: asks the node agent on this node for its summary, snapshot or stream.
// Also usable as an exec readiness probe (`node-agent-client --get /readyz --quiet`) in images that
// have no shell or curl.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stop_token>
#include <string>

#include "cli/duration.h"
#include "cli/flags.h"
#include "cli/process.h"
#include "client/cli_output.h"
#include "nodeagent/client.h"

namespace {

namespace nc = nodeagent::client;
using nc::Client;
using nc::ClientOptions;
using nc::Error;

constexpr const char* kProgram = "node-agent-client";
constexpr int kOk = 0;
constexpr int kAgentError = 1;
constexpr int kUsage = 2;

constexpr const char* kFooter =
    "At most one of --json, --watch, --get; without them the agent's text line is\n"
    "printed. --count needs --watch. Everything the agent sent is printed with control\n"
    "characters escaped (\\u001b for ESC, ...), so an answer cannot drive the terminal.\n"
    "\n"
    "Locality: the answer must come from the node named by --expect-node, else $NODE_NAME when\n"
    "it is set; an answer from another node is an error (exit 1), never printed.\n"
    "Retry (on unless --no-retry): a refused or reset connection, a missing unix socket and a\n"
    "503 from an agent that is not ready yet are retried with backoff until --timeout ends;\n"
    "--watch reconnects by itself after the stream breaks (an agent restart).\n"
    "\n"
    "Exit codes:\n"
    "  0  success (--get: the agent answered 2xx)\n"
    "  1  agent error: unreachable, refused, timeout, non-2xx status, unparsable answer,\n"
    "     wrong node, or the watch stream ended before --count events\n"
    "  2  usage or configuration error: bad flag, no agent configured, invalid URL\n"
    "\n"
    "Discovery: --url, else NODE_AGENT_URL ($(VAR) references expanded like the kubelet does),\n"
    "else http://$NODE_IP:11559. The source used is printed on stderr unless --quiet.\n";

// Every message on stderr has one shape: "node-agent-client: message".
void complain(std::string_view message) {
  std::string line(message);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  fmt::print(stderr, "{}: {}\n", kProgram, line);
}

int usage(std::string_view message) {
  complain(message);
  return kUsage;
}

int fail(const Error& e, bool quiet) {
  if (!quiet) complain(e.message());  // message() is printable() already
  return kAgentError;
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Query the node agent running on this node."};
  nodeagent::cli::apply_house_style(app, kProgram, 30);
  app.footer(kFooter);
  app.set_version_flag("--version", std::string(kProgram) + " " + PROJECT_VERSION,
                       "Print the version and exit");
  std::string url;
  std::string timeout_text = "1s";
  bool as_json = false;
  bool watch = false;
  long count = 0;
  std::string get_path;
  bool quiet = false;
  std::string expect_node;
  bool no_locality = false;
  bool retry_flag = false;
  bool no_retry = false;
  app.add_option("--url", url, "Agent URL: http://host[:port][/prefix] or unix:///path.sock")
      ->type_name("URL");
  app.add_option("--timeout", timeout_text, "Per-call timeout, retries included, 1ms to 24h")
      ->capture_default_str()
      ->type_name("DURATION");
  app.add_flag("--json", as_json, "Print the /v1/node JSON snapshot");
  app.add_flag("--watch", watch, "Print each /v1/node/watch event's JSON, one per line");
  auto* count_option =
      app.add_option("--count", count,
                     "With --watch: stop after N >= 1 events (default: until SIGINT)")
          ->type_name("N");
  auto* get_option =
      app.add_option("--get", get_path,
                     "GET this path (e.g. /readyz), print the body, exit 0 only on 2xx")
          ->type_name("PATH");
  auto* expect_option =
      app.add_option("--expect-node", expect_node,
                     "Refuse answers from other nodes (default: $NODE_NAME if set)")
          ->type_name("NAME");
  app.add_flag("--no-locality-check", no_locality,
               "Accept answers from any node (nearly never wise)");
  app.add_flag("--retry", retry_flag, "Retry within --timeout; --watch reconnects (the default)");
  app.add_flag("--no-retry", no_retry, "One attempt; --watch ends when the stream breaks");
  app.add_flag("-q,--quiet", quiet, "No discovery line or error messages on stderr");
  // --help, --version, or a flag CLI11 cannot parse (the shared house style, src/cli/flags.h).
  if (auto done = nodeagent::cli::parse_flags(app, argc, argv))
    return nodeagent::cli::finish(*done);
  const bool get = get_option->count() > 0;
  if (int(as_json) + int(watch) + int(get) > 1) {
    return usage("--json, --watch and --get exclude each other");
  }
  if (count_option->count() > 0 && !watch) return usage("--count needs --watch");
  if (count_option->count() > 0 && (count < 1 || count > 1000000000L)) {
    return usage(fmt::format("bad --count {}: a number of events from 1 to 1000000000", count));
  }
  if (get && (get_path.empty() || get_path.front() != '/')) {
    return usage("--get needs an absolute path like /readyz");
  }
  if (retry_flag && no_retry) return usage("--retry and --no-retry exclude each other");
  if (no_locality && expect_option->count() > 0) {
    return usage("--expect-node and --no-locality-check exclude each other");
  }
  if (expect_option->count() > 0 && expect_node.empty()) {
    return usage("--expect-node needs a node name (use --no-locality-check to switch it off)");
  }
  auto timeout = nodeagent::cli::parse_duration(timeout_text);
  if (!timeout || *timeout < std::chrono::milliseconds(1) || *timeout > std::chrono::hours(24)) {
    return usage(fmt::format("bad --timeout \"{}\": a duration from 1ms to 24h (e.g. 500ms, 1s)",
                             nc::printable(timeout_text)));
  }

  auto found = nc::discover(url.empty() ? std::nullopt : std::optional<std::string_view>(url));
  if (!found) {
    if (!quiet) complain(found.error().message());
    return kUsage;
  }
  ClientOptions options;
  options.timeout = *timeout;
  options.retry.enabled = !no_retry;
  if (!no_locality)
    options.expected_node =
        expect_option->count() > 0 ? expect_node : env("NODE_NAME").value_or("");
  if (!quiet) {
    std::string line = "agent: " + found->describe();
    if (!options.expected_node.empty())
      line += ", expecting node \"" + options.expected_node + "\"";
    fmt::print(stderr, "{}\n", nc::printable(line));
  }
  Client client(found->endpoint, options);

  if (get) {
    auto r = client.get(get_path);
    if (!r) return fail(r.error(), quiet);
    // --quiet silences stderr only
    fmt::print("{}", nc::cli_output::printable_lines(r->body));
    if (r->status >= 200 && r->status <= 299) return kOk;
    return fail(nc::bad_status(found->endpoint, get_path, *r), quiet);
  }
  if (as_json) {
    // node() checks the document (and the Node-Name header); the raw body is what gets printed.
    auto r = client.get("/v1/node", "application/json");
    if (!r) return fail(r.error(), quiet);
    if (r->status < 200 || r->status > 299) {
      return fail(nc::bad_status(found->endpoint, "/v1/node", *r), quiet);
    }
    auto parsed = nc::parse_node_json(r->body);
    if (!parsed) return fail(parsed.error(), quiet);
    if (!options.expected_node.empty() && parsed->node != options.expected_node) {
      return fail(Error{nc::ErrorCode::kWrongNode,
                        "document from node \"" + parsed->node + "\", expected \"" +
                            options.expected_node + "\" (" + found->endpoint.url + ")",
                        0},
                  quiet);
    }
    fmt::print("{}\n", nc::cli_output::json_line(r->body));
    return kOk;
  }
  if (watch) {
    // SIGINT or SIGTERM ends the watch cleanly (exit 0); the watch itself runs here.
    nodeagent::cli::block_stop_signals();
    std::stop_source stop;
    nodeagent::cli::StopSignalWaiter waiter(
        [stop](std::string_view) mutable { stop.request_stop(); });
    nc::WatchOptions wo;
    wo.reconnect = !no_retry;
    wo.on_disconnect = [quiet](const Error& why, std::chrono::milliseconds delay) {
      if (!quiet) {
        complain(
            fmt::format("stream broken ({}); reconnecting in {} ms", why.message(), delay.count()));
      }
    };
    long seen = 0;
    auto r = client.watch(
        [&](const nc::SseEvent& ev) {
          fmt::print("{}\n", nc::cli_output::json_line(ev.data));
          std::fflush(stdout);
          return count == 0 || ++seen < count;
        },
        stop.get_token(), wo);
    if (!r && r.error().code == nc::ErrorCode::kCancelled) return kOk;
    if (!r) return fail(r.error(), quiet);
    return kOk;
  }
  auto line = client.text();
  if (!line) return fail(line.error(), quiet);
  fmt::print("{}\n", nc::printable(*line));
  return kOk;
}
