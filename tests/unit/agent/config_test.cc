#include "agent/config.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "nodeinfo/source.h"

namespace nodeagent::agent {
namespace {

ParseOutcome parse(std::vector<const char*> args, std::optional<std::string> node = std::nullopt) {
  args.insert(args.begin(), "node-agent");
  return parse_config(static_cast<int>(args.size()), args.data(), node, "host-1");
}

TEST(Config, DefaultsMatchTheSeeds) {
  ParseOutcome out = parse({});
  ASSERT_TRUE(out.config) << out.message;
  const Config& c = *out.config;
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(http::to_string(c.listen[0]).find(":80"), http::to_string(c.listen[0]).size() - 3);
  EXPECT_EQ(c.procfs, "/proc");
  EXPECT_EQ(c.sysfs, "/sys");
  EXPECT_EQ(c.interval, std::chrono::seconds(1));
  EXPECT_EQ(c.user, 65534u);
  EXPECT_FALSE(c.allow_root);
  EXPECT_TRUE(c.access.empty());
  EXPECT_EQ(c.socket_mode, 0660u);
  EXPECT_EQ(c.node_name, "host-1");
  EXPECT_EQ(c.shutdown_delay, std::chrono::milliseconds(0));
  EXPECT_EQ(c.threads, default_threads(std::thread::hardware_concurrency()));
}

TEST(Config, DefaultThreadsAreOnePerCoreAtMostTwo) {
  EXPECT_EQ(default_threads(0), 1u);  // hardware_concurrency() may not know
  EXPECT_EQ(default_threads(1), 1u);
  EXPECT_EQ(default_threads(2), 2u);
  EXPECT_EQ(default_threads(64), 2u);
  const char* const argv[] = {"node-agent", "--threads", "0"};
  ParseOutcome out = parse_config(3, argv, std::nullopt, "host-1");
  ASSERT_TRUE(out.config) << out.message;
  EXPECT_NE(out.config->threads, 0u);
}

TEST(Config, NodeNameFromEnvironmentWins) {
  EXPECT_EQ(parse({}, "kind-worker").config->node_name, "kind-worker");
  EXPECT_EQ(parse({}, "").config->node_name, "host-1");
}

TEST(Config, NodeNameThatCannotBeAHeaderIsRefused) {
  // It is sent as the Node-Name header of every answer.
  for (const char* bad : {"n1\r\nX-Forged: 1", "n 1", "n1\x1b[2J"}) {
    ParseOutcome out = parse({}, bad);
    EXPECT_FALSE(out.config) << bad;
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_NE(out.message.find("NODE_NAME"), std::string::npos) << out.message;
  }
}

TEST(Config, AcceptsEveryFlag) {
  ParseOutcome out = parse({"--listen-address",
                            ":11559",
                            "--listen-address",
                            "unix:///tmp/a.sock",
                            "--procfs",
                            "/host/proc",
                            "--sysfs",
                            "/host/sys",
                            "--interval",
                            "500ms",
                            "--log-level",
                            "debug",
                            "--allow-cidr",
                            "10.244.0.0/16",
                            "--allow-cidr",
                            "fd00::/8",
                            "--socket-mode",
                            "0600",
                            "--user",
                            "1000",
                            "--allow-root",
                            "--threads",
                            "2",
                            "--max-connections",
                            "50",
                            "--shutdown-delay",
                            "5s"});
  ASSERT_TRUE(out.config) << out.message;
  const Config& c = *out.config;
  EXPECT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.procfs, "/host/proc");
  EXPECT_EQ(c.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(c.log_level, log::Level::kDebug);
  EXPECT_EQ(c.access.rules().size(), 2u);
  EXPECT_EQ(c.socket_mode, 0600u);
  EXPECT_EQ(c.user, 1000u);
  EXPECT_TRUE(c.allow_root);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_EQ(c.max_connections, 50u);
  EXPECT_EQ(c.shutdown_delay, std::chrono::seconds(5));
}

struct BadFlag {
  std::vector<const char*> args;
  const char* flag;
};

class ConfigBadFlag : public testing::TestWithParam<BadFlag> {};

TEST_P(ConfigBadFlag, ExitsTwoNamingTheFlag) {
  ParseOutcome out = parse(GetParam().args);
  EXPECT_FALSE(out.config);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.message.find(GetParam().flag), std::string::npos) << out.message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigBadFlag,
    testing::Values(BadFlag{{"--interval", "1x"}, "--interval"},
                    BadFlag{{"--interval", "10"}, "--interval"},
                    BadFlag{{"--interval", "50ms"}, "--interval"},
                    BadFlag{{"--listen-address", "nowhere"}, "--listen-address"},
                    BadFlag{{"--listen-address", ":70000"}, "--listen-address"},
                    BadFlag{{"--log-level", "loud"}, "--log-level"},
                    BadFlag{{"--allow-cidr", "10.0.0.0/33"}, "--allow-cidr"},
                    BadFlag{{"--allow-cidr", "banana"}, "--allow-cidr"},
                    BadFlag{{"--socket-mode", "999"}, "--socket-mode"},
                    BadFlag{{"--socket-mode", "rw"}, "--socket-mode"},
                    BadFlag{{"--user", "0"}, "--user"}, BadFlag{{"--user", "bob"}, "--user"},
                    BadFlag{{"--threads", "1000"}, "--threads"},
                    BadFlag{{"--max-connections", "0"}, "--max-connections"},
                    BadFlag{{"--shutdown-delay", "5"}, "--shutdown-delay"},
                    BadFlag{{"--shutdown-delay", "11m"}, "--shutdown-delay"},
                    BadFlag{{"--procfs"}, "--procfs"}, BadFlag{{"--bogus"}, "--bogus"},
                    BadFlag{{"--collector.vmstat.fields", "(pg"}, "--collector.vmstat.fields"},
                    BadFlag{{"--collector.diskstats.device-exclude", "[a-"},
                            "--collector.diskstats.device-exclude"},
                    BadFlag{{"--collector.filesystem.mount-timeout", "0s"},
                            "--collector.filesystem.mount-timeout"},
                    BadFlag{{"--no-collector.nosuchsource"}, "--no-collector.nosuchsource"}));

TEST(Config, SourceSwitchesAndTunables) {
  ParseOutcome out = parse({"--no-collector.pressure", "--no-collector.time", "--collector.time",
                            "--rootfs", "/host/root", "--collector.netdev.device-exclude",
                            "^(lo|veth.*)$", "--collector.filesystem.mount-timeout", "2s"});
  ASSERT_TRUE(out.config) << out.message;
  const Config& c = *out.config;
  EXPECT_EQ(c.sources_disabled, std::vector<std::string>{"pressure"});
  EXPECT_EQ(c.sources_enabled, std::vector<std::string>{"time"});  // the last switch wins
  EXPECT_EQ(c.rootfs, "/host/root");
  EXPECT_EQ(c.netdev_device_exclude, "^(lo|veth.*)$");
  EXPECT_EQ(c.filesystem_mount_timeout, std::chrono::seconds(2));
  // Untouched tunables keep node_exporter's defaults.
  EXPECT_EQ(c.netdev_device_exclude.empty(), false);
  EXPECT_EQ(c.vmstat_fields, nodeinfo::SourceTunables{}.vmstat_fields);
}

TEST(Config, HelpListsEverySource) {
  const std::string help = parse({"--help"}).message;
  for (const nodeinfo::SourceInfo& info : nodeinfo::all_sources()) {
    EXPECT_NE(help.find("--no-collector." + std::string(info.name)), std::string::npos)
        << info.name;
  }
}

TEST(Config, HelpAndVersionExitZero) {
  ParseOutcome help = parse({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_FALSE(help.config);
  EXPECT_NE(help.message.find("--listen-address"), std::string::npos);
  ParseOutcome version = parse({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.message.find("node-agent "), std::string::npos);
}

TEST(Config, HelpNamesTheProgramAndHasNoParserArtefacts) {
  std::vector<const char*> args{"./build/bin/node-agent", "--help"};
  ParseOutcome help = parse_config(static_cast<int>(args.size()), args.data(), {}, "h");
  EXPECT_EQ(help.message.rfind("node-agent serves", 0), 0u) << help.message;
  EXPECT_NE(help.message.find("Usage: node-agent [OPTIONS]"), std::string::npos) << help.message;
  EXPECT_NE(help.message.find("--interval DURATION=1s"), std::string::npos) << help.message;
  for (const char* artefact : {"Excludes", "INT in", "./build", "Needs:", "Env:"}) {
    EXPECT_EQ(help.message.find(artefact), std::string::npos) << artefact;
  }
}

TEST(Config, FlagErrorsAreOneStyle) {
  for (std::vector<const char*> args :
       {std::vector<const char*>{"--threads", "x"}, std::vector<const char*>{"--threads", "1000"},
        std::vector<const char*>{"--bogus"}}) {
    ParseOutcome out = parse(args);
    EXPECT_EQ(out.exit_code, 2);
    EXPECT_EQ(out.message.rfind("node-agent: ", 0), 0u) << out.message;
    EXPECT_NE(out.message.find(args[0]), std::string::npos) << out.message;
    EXPECT_TRUE(out.message.ends_with("\nRun 'node-agent --help' for usage.\n")) << out.message;
  }
}

}  // namespace
}  // namespace nodeagent::agent
