#include "cli/flags.h"

#include <gtest/gtest.h>

#include <vector>

namespace nodeagent::cli {
namespace {

// An app with every feature that used to leak parser artefacts into --help.
struct TestApp {
  CLI::App app{"Test program."};
  long count = 0;
  bool json = false;
  bool watch = false;
  std::vector<std::string> names;

  TestApp() {
    apply_house_style(app, "prog");
    app.add_option("--count", count, "Stop after N events")
        ->type_name("N")
        ->check(CLI::Range(1L, 1000000000L));
    auto* j = app.add_flag("--json", json, "JSON out; not with --watch");
    auto* w = app.add_flag("--watch", watch, "Watch");
    j->excludes(w);
    app.add_option("--name", names, "Repeatable")->type_name("NAME");
    app.set_version_flag("--version", "prog 1.2.3");
  }

  std::optional<FlagsExit> parse(std::vector<const char*> args) {
    args.insert(args.begin(), "./build/bin/prog");
    return parse_flags(app, static_cast<int>(args.size()), args.data());
  }
};

TEST(Flags, HelpHasNoParserArtefacts) {
  TestApp t;
  auto done = t.parse({"--help"});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->exit_code, 0);
  const std::string& help = done->text;
  EXPECT_NE(help.find("Usage: prog [OPTIONS]"), std::string::npos) << help;
  EXPECT_NE(help.find("--count N "), std::string::npos) << help;
  EXPECT_NE(help.find("--name NAME ..."), std::string::npos) << help;
  for (const char* artefact : {"Excludes", "INT in", ":INT", "build/bin", "Needs:"}) {
    EXPECT_EQ(help.find(artefact), std::string::npos) << artefact << " in:\n" << help;
  }
}

TEST(Flags, VersionIsTheGivenLine) {
  TestApp t;
  auto done = t.parse({"--version"});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->exit_code, 0);
  EXPECT_EQ(done->text, "prog 1.2.3\n");
}

TEST(Flags, ParseErrorsAreProgramColonMessage) {
  struct Case {
    std::vector<const char*> args;
    const char* names;  // what the message must mention
  };
  for (const Case& c : {Case{{"--bogus"}, "--bogus"}, Case{{"--count", "x"}, "--count"},
                        Case{{"--count", "0"}, "--count"}, Case{{"--json", "--watch"}, "--json"}}) {
    TestApp t;
    auto done = t.parse(c.args);
    ASSERT_TRUE(done) << c.names;
    EXPECT_EQ(done->exit_code, kUsageExit);
    EXPECT_EQ(done->text.rfind("prog: ", 0), 0u) << done->text;
    EXPECT_NE(done->text.find(c.names), std::string::npos) << done->text;
    EXPECT_NE(done->text.find("\nRun 'prog --help' for usage.\n"), std::string::npos) << done->text;
  }
}

TEST(Flags, GoodArgumentsGoOn) {
  TestApp t;
  EXPECT_FALSE(t.parse({"--count", "3", "--name", "a", "--name", "b"}));
  EXPECT_EQ(t.count, 3);
  EXPECT_EQ(t.names.size(), 2u);
}

TEST(Flags, ErrorLineHasOneNewline) {
  EXPECT_EQ(error_line("kiada", "bad --log-level loud\n"), "kiada: bad --log-level loud\n");
  EXPECT_EQ(error_line("kiada", "x"), "kiada: x\n");
  EXPECT_EQ(usage_error("node-agent", "--user: bad"),
            "node-agent: --user: bad\nRun 'node-agent --help' for usage.\n");
}

}  // namespace
}  // namespace nodeagent::cli
