#include "kiada/config.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "cli/duration.h"
#include "kiada/pages.h"
#include "nodeagent/discovery.h"

namespace nodeagent::kiada {
namespace {

constexpr std::string_view kDescription =
    "Kiada 0.9: shows the pod, its node, and what the node agent on the same node says about\n"
    "that node. Routes: / (text; browsers are sent to /html), /text, /html (live chart),\n"
    "/events (the agent's stream relayed), /healthz/ready.";

constexpr std::string_view kFooter =
    "Environment (set by the Downward API in a pod): POD_NAME, NODE_NAME (default: the\n"
    "hostname; also the node whose agent must answer), POD_IP, NODE_IP, NODE_AGENT_URL\n"
    "($(VAR) references expanded like the kubelet does), INITIAL_STATUS_MESSAGE. A line\n"
    "typed on stdin becomes the status message.\n"
    "\n"
    "Exit status: 0 after SIGTERM/SIGINT, 1 when it cannot listen, 2 on a bad flag.";

struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(std::string message) { throw FlagError(std::move(message)); }

// CLI11's own range checks print "INT in [1 - 65535]" in --help; ranges are checked here instead.
unsigned parse_unsigned(std::string_view flag, const std::string& text, unsigned min,
                        unsigned max) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    fail(fmt::format("bad {} \"{}\": a whole number from {} to {}", flag, text, min, max));
  }
  return value;
}

std::string usage_error(std::string_view message) {
  return fmt::format("kiada: {}\nRun 'kiada --help' for usage.\n", message);
}

}  // namespace

ParseOutcome parse_config(int argc, const char* const* argv,
                          std::optional<std::string> env_node_name, unsigned cores) {
  CLI::App app{std::string(kDescription), "kiada"};
  app.footer(std::string(kFooter));
  app.get_formatter()->column_width(32);
  std::string port = "8080", listen_address, agent_url, timeout = "1s", log_level = "info";
  std::string threads = std::to_string(std::clamp(cores, 2u, 64u)), expect_node;
  bool retry = false, no_retry = false, no_locality_check = false;
  app.add_option("--listen-port", port, "TCP port on all addresses, 1 to 65535")
      ->capture_default_str()
      ->type_name("PORT");
  auto* listen_flag = app.add_option("--listen-address", listen_address,
                                     "Overrides --listen-port: HOST:PORT, :PORT, [::1]:PORT or\n"
                                     "unix:///path")
                          ->type_name("ADDR");
  auto* agent_flag = app.add_option("--agent-url", agent_url,
                                    "Node agent URL; default NODE_AGENT_URL, else\n"
                                    "http://$NODE_IP:11559")
                         ->type_name("URL");
  app.add_option("--agent-timeout", timeout,
                 "Budget per agent call, retries included: 1ms to 1h\n"
                 "(e.g. 500ms, 1s)")
      ->capture_default_str()
      ->type_name("DURATION");
  auto* expect_flag = app.add_option("--expect-node", expect_node,
                                     "Refuse answers from any other node's agent; default\n"
                                     "NODE_NAME")
                          ->type_name("NAME");
  app.add_flag("--no-locality-check", no_locality_check,
               "Accept an answer from any node (not recommended)");
  app.add_flag("--retry", retry,
               "Retry a refused or reset agent call within the budget\n"
               "(default)");
  app.add_flag("--no-retry", no_retry, "One attempt per agent call");
  app.add_option("--threads", threads, "HTTP event-loop threads, 1 to 64")
      ->capture_default_str()
      ->type_name("N");
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->type_name("LEVEL");
  app.set_version_flag("--version", "");

  ParseOutcome out;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.message = app.help();
    return out;
  } catch (const CLI::CallForVersion&) {
    out.message = fmt::format("kiada {}\n", kVersion);
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = 2;
    out.message = usage_error(e.what());
    return out;
  }

  try {
    Config config;
    std::string listen =
        listen_flag->count() > 0
            ? listen_address
            : ":" + std::to_string(parse_unsigned("--listen-port", port, 1, 65535));
    // Given but empty is an error, not "use the default".
    auto address = http::parse_listen_address(listen);
    if (!address) fail("bad --listen-address: " + address.error().message());
    config.listen = *address;
    if (agent_flag->count() > 0) {
      // An explicit URL that cannot work is a bad flag. Without one, Kiada still starts and its
      // pages say that no agent is configured.
      auto url = client::parse_url(agent_url);
      if (!url) fail(fmt::format("bad --agent-url \"{}\": {}", agent_url, url.error().message()));
      config.agent_url = agent_url;
    }
    auto budget = cli::parse_duration(timeout);
    if (!budget || *budget < std::chrono::milliseconds(1) || *budget > std::chrono::hours(1)) {
      fail(fmt::format("bad --agent-timeout \"{}\": a duration from 1ms to 1h (e.g. 500ms, 1s)",
                       timeout));
    }
    config.agent_timeout = *budget;
    config.threads = parse_unsigned("--threads", threads, 1, 64);
    auto level = log::parse_level(log_level);
    if (!level) {
      fail(fmt::format("bad --log-level \"{}\": one of debug, info, warn, error", log_level));
    }
    config.log_level = *level;
    if (retry && no_retry) fail("--retry and --no-retry contradict each other");
    config.retry = !no_retry;
    if (no_locality_check && expect_flag->count() > 0) {
      fail("--expect-node and --no-locality-check contradict each other");
    }
    if (expect_flag->count() > 0 && expect_node.empty()) {
      fail("bad --expect-node: must not be empty (to switch the check off: --no-locality-check)");
    }
    if (!no_locality_check) {
      config.expected_node = expect_flag->count() > 0 ? expect_node : env_node_name.value_or("");
    }
    out.config = std::move(config);
  } catch (const FlagError& e) {
    out.exit_code = 2;
    out.message = usage_error(e.what());
  }
  return out;
}

}  // namespace nodeagent::kiada
