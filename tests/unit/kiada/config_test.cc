#include "kiada/config.h"

#include <gtest/gtest.h>

#include <vector>

namespace nodeagent::kiada {
namespace {

ParseOutcome parse(std::vector<const char*> args, std::optional<std::string> node = "n1",
                   unsigned cores = 8) {
  args.insert(args.begin(), "./build/bin/kiada");
  return parse_config(static_cast<int>(args.size()), args.data(), node, cores);
}

TEST(KiadaConfig, Defaults) {
  ParseOutcome out = parse({});
  ASSERT_TRUE(out.config) << out.message;
  const Config& c = *out.config;
  EXPECT_EQ(http::to_string(c.listen), ":8080");
  EXPECT_FALSE(c.agent_url);
  EXPECT_EQ(c.agent_timeout, std::chrono::seconds(1));
  EXPECT_EQ(c.threads, 8u);
  EXPECT_EQ(c.log_level, log::Level::kInfo);
  EXPECT_EQ(c.expected_node, "n1");  // NODE_NAME: the locality check is on by default
  EXPECT_TRUE(c.retry);
  EXPECT_EQ(parse({}, "n1", 1).config->threads, 2u);
  EXPECT_EQ(parse({}, "n1", 200).config->threads, 64u);
  EXPECT_EQ(parse({}, std::nullopt).config->expected_node, "");  // nothing to check against
}

TEST(KiadaConfig, AcceptsEveryFlag) {
  ParseOutcome out = parse({"--listen-address", "127.0.0.1:0", "--agent-url",
                            "http://10.0.0.1:11559", "--agent-timeout", "250ms", "--threads", "3",
                            "--log-level", "debug", "--expect-node", "n7", "--no-retry"});
  ASSERT_TRUE(out.config) << out.message;
  const Config& c = *out.config;
  EXPECT_EQ(http::to_string(c.listen), "127.0.0.1:0");
  EXPECT_EQ(c.agent_url, "http://10.0.0.1:11559");
  EXPECT_EQ(c.agent_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.log_level, log::Level::kDebug);
  EXPECT_EQ(c.expected_node, "n7");  // the flag wins over NODE_NAME
  EXPECT_FALSE(c.retry);
  EXPECT_EQ(http::to_string(parse({"--listen-port", "9000"}).config->listen), ":9000");
  EXPECT_TRUE(parse({"--retry"}).config->retry);
  EXPECT_EQ(parse({"--no-locality-check"}).config->expected_node, "");
}

TEST(KiadaConfig, HelpAndVersionExitZeroWithoutParserArtefacts) {
  ParseOutcome help = parse({"--help"});
  EXPECT_FALSE(help.config);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.message.find("Usage: kiada [OPTIONS]"), std::string::npos) << help.message;
  for (const char* flag : {"--listen-port", "--listen-address", "--agent-url", "--agent-timeout",
                           "--expect-node", "--no-locality-check", "--retry", "--no-retry",
                           "--threads", "--log-level", "--version", "POD_NAME", "Exit status"}) {
    EXPECT_NE(help.message.find(flag), std::string::npos) << flag;
  }
  for (const char* artefact : {"Excludes", "INT in", "./build", "TEXT", "UINT", "[1 - "}) {
    EXPECT_EQ(help.message.find(artefact), std::string::npos) << artefact << "\n" << help.message;
  }
  ParseOutcome version = parse({"--version"});
  EXPECT_FALSE(version.config);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.message, "kiada 0.9\n");
}

struct BadCase {
  std::vector<const char*> args;
  std::string message;  // the first line of the error, after "kiada: "
};

TEST(KiadaConfig, EveryFlagErrorIsExit2WithOneStyleOfMessage) {
  const std::vector<BadCase> cases = {
      {{"--no-such-flag"}, "The following argument was not expected: --no-such-flag"},
      {{"--listen-port", "x"}, "bad --listen-port \"x\": a whole number from 1 to 65535"},
      {{"--listen-port", "0"}, "bad --listen-port \"0\": a whole number from 1 to 65535"},
      {{"--listen-port", "65536"}, "bad --listen-port \"65536\": a whole number from 1 to 65535"},
      {{"--listen-address", ""}, "bad --listen-address: "},
      {{"--listen-address", "nowhere"}, "bad --listen-address: "},
      {{"--agent-url", ""}, "bad --agent-url \"\": "},
      {{"--agent-url", "ftp://x"}, "bad --agent-url \"ftp://x\": "},
      {{"--agent-timeout", "5"}, "bad --agent-timeout \"5\": a duration from 1ms to 1h"},
      {{"--agent-timeout", "0s"}, "bad --agent-timeout \"0s\": a duration from 1ms to 1h"},
      {{"--agent-timeout", "2h"}, "bad --agent-timeout \"2h\": a duration from 1ms to 1h"},
      {{"--agent-timeout", "1e3ms"}, "bad --agent-timeout \"1e3ms\": a duration from 1ms to 1h"},
      {{"--threads", "0"}, "bad --threads \"0\": a whole number from 1 to 64"},
      {{"--threads", "65"}, "bad --threads \"65\": a whole number from 1 to 64"},
      {{"--threads", "-1"}, "bad --threads \"-1\": a whole number from 1 to 64"},
      {{"--log-level", "loud"}, "bad --log-level \"loud\": one of debug, info, warn, error"},
      {{"--expect-node", ""}, "bad --expect-node: must not be empty"},
      {{"--expect-node", "n1", "--no-locality-check"},
       "--expect-node and --no-locality-check contradict each other"},
      {{"--retry", "--no-retry"}, "--retry and --no-retry contradict each other"},
      {{"--agent-timeout"}, "--agent-timeout: 1 required DURATION missing"},
  };
  for (const BadCase& c : cases) {
    ParseOutcome out = parse(c.args);
    EXPECT_FALSE(out.config) << c.args[0];
    EXPECT_EQ(out.exit_code, 2) << c.args[0];
    EXPECT_EQ(out.message.rfind("kiada: " + c.message, 0), 0u) << out.message;
    EXPECT_NE(out.message.find("\nRun 'kiada --help' for usage.\n"), std::string::npos);
  }
}

}  // namespace
}  // namespace nodeagent::kiada
