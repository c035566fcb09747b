// node-agent: serves this node's information over HTTP. See --help and docs/api.md.
//
// Start-up order matters for least privilege: parse flags, open the host roots and bind every
// socket while still privileged, then drop privileges, then start sampling and serving.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "agent/config.h"
#include "log/log.h"

namespace {

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nodeagent;
  const char* env_node = std::getenv("NODE_NAME");
  agent::ParseOutcome parsed = agent::parse_config(
      argc, argv, env_node ? std::optional<std::string>(env_node) : std::nullopt, hostname());
  if (!parsed.config) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  log::set_level(parsed.config->log_level);

  // Block the shutdown signals in every thread; one thread waits for them with sigwait, so no
  // work happens in signal context.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto agent = agent::Agent::create(std::move(*parsed.config));
  if (!agent) return 1;  // the reason is already logged

  std::atomic<bool> finished{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (finished.load()) return;  // woken by main below, not by an operator
    log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    agent->stop();
  });
  int status = agent->run();
  // run() returns after a stop or when serving failed; in both cases wake the waiter to join it.
  finished.store(true);
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return status;
}
