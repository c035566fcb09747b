// node-agent: serves this node's information over HTTP. See --help and docs/api.md.
//
// Start-up order matters for least privilege: parse flags, open the host roots and bind every
// socket while still privileged, then drop privileges, then start sampling and serving.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "agent/agent.h"
#include "agent/config.h"
#include "cli/process.h"
#include "log/log.h"

int main(int argc, char** argv) {
  using namespace nodeagent;
  const char* env_node = std::getenv("NODE_NAME");
  agent::ParseOutcome parsed = agent::parse_config(
      argc, argv, env_node ? std::optional<std::string>(env_node) : std::nullopt, cli::hostname());
  if (!parsed.config) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  log::set_level(parsed.config->log_level);

  // Before any thread starts: every thread inherits the mask, one waiter takes the signals.
  cli::block_stop_signals();
  auto agent = agent::Agent::create(std::move(*parsed.config));
  if (!agent) return 1;  // the reason is already logged

  cli::StopSignalWaiter waiter([&agent](std::string_view signal) {
    log::info("shutting down", {{"signal", std::string(signal)}});
    agent->stop();
  });
  return agent->run();  // after a stop, or when serving failed
}
