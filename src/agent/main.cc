// node-agent: serves this node's information over HTTP. See --help and docs/api.md.
//
// Start-up order matters for least privilege: parse flags, open the host roots and bind every
// socket while still privileged, then drop privileges, then start sampling and serving.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent.h"
#include "agent/config.h"
#include "cli/process.h"
#include "log/log.h"

namespace {

// On the signal waiter's thread (the stop signals are blocked everywhere): true when another
// SIGTERM or SIGINT arrives within `timeout`.
bool wait_for_stop_signal(std::chrono::milliseconds timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    if (sigtimedwait(&set, nullptr, &ts) > 0) return true;
    if (errno != EINTR) return false;  // EAGAIN: the delay is over
  }
}

}  // namespace

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
  auto created = agent::Agent::create(std::move(*parsed.config));
  if (!created) return 1;  // the reason is already logged
  std::unique_ptr<agent::Agent> agent = std::move(*created);

  cli::StopSignalWaiter waiter([&agent](std::string_view signal) {
    const auto delay = agent->shutdown_delay();
    log::info("shutting down", {{"signal", std::string(signal)},
                                {"delay_ms", static_cast<std::int64_t>(delay.count())}});
    agent->shutdown();
    if (delay.count() > 0 && wait_for_stop_signal(delay)) {
      log::info("second stop signal: skipping the rest of the shutdown delay");
      agent->stop();
    }
  });
  return agent->run();  // after a stop, or when serving failed
}
