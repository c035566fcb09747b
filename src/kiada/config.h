#pragma once
// Kiada's command line. Parsing is apart from main() so that every flag error is unit-tested:
// a bad flag gives "kiada: <message>" and exit status 2; --help and --version exit 0.

#include <chrono>
#include <optional>
#include <string>

#include "http/listen_address.h"
#include "log/log.h"

namespace nodeagent::kiada {

struct Config {
  http::ListenAddress listen;                     // --listen-address, else :--listen-port (8080)
  std::optional<std::string> agent_url;           // --agent-url; validated, never empty
  std::chrono::milliseconds agent_timeout{1000};  // --agent-timeout: budget per agent call
  unsigned threads = 2;                           // --threads HTTP event loops
  log::Level log_level = log::Level::kInfo;       // --log-level
  // The node whose agent must answer (client::ClientOptions::expected_node): --expect-node,
  // else NODE_NAME; empty (no check) with --no-locality-check or when neither is set.
  std::string expected_node;
  bool retry = true;  // --retry (default) / --no-retry: retry refused/reset calls in the budget
};

// What main() does after parsing: run with `config`, or print `message` and exit.
struct ParseOutcome {
  std::optional<Config> config;  // set when Kiada should run
  int exit_code = 0;             // when config is empty: 0 (--help/--version) or 2 (bad flag)
  std::string message;           // help text, version line, or "kiada: <reason>\n..."
};

// `env_node_name` (NODE_NAME) and `cores` are passed in so that tests control them.
ParseOutcome parse_config(int argc, const char* const* argv,
                          std::optional<std::string> env_node_name, unsigned cores);

}  // namespace nodeagent::kiada
