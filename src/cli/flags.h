#pragma once
// The one style every program here (node-agent, node-agent-client, kiada) uses for its flags:
// help text without parser artefacts, and one error shape, "PROGRAM: message".
//
// Usage:
//   CLI::App app{"description"};
//   cli::apply_house_style(app, "kiada");
//   ... add options ...
//   if (auto done = cli::parse_flags(app, argc, argv)) return cli::finish(*done);
//
// Thread-safety: plain functions over the caller's objects; nothing shared.

#include <CLI/CLI.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nodeagent::cli {

// Exit status of a usage error (bad flag, bad value) in every program here.
inline constexpr int kUsageExit = 2;

// Prints each option as `--flag TYPE=DEFAULT ...` and nothing more: no validator descriptions
// (CLI11 appends them to the type, e.g. `N:INT in [1 - 1000000000]`), no `Excludes:`/`Needs:`
// lists and no `(Env:...)`. Say such rules in the option's description instead, in words.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* opt) const override;
};

// Names the program (so --help never shows argv[0], e.g. `./build/bin/kiada`) and installs
// HelpFormatter with the given width of the flag column.
void apply_house_style(CLI::App& app, std::string_view program, std::size_t column_width = 34);

// "PROGRAM: message\n" (one trailing newline, whatever `message` ends with).
std::string error_line(std::string_view program, std::string_view message);

// A bad flag: "PROGRAM: message\nRun 'PROGRAM --help' for usage.\n".
std::string usage_error(std::string_view program, std::string_view message);

// What to do instead of running: print `text` (on stdout when `exit_code` is 0, i.e. --help or
// --version; else on stderr) and exit with `exit_code`.
struct FlagsExit {
  int exit_code = 0;
  std::string text;
};

// Parses argv into `app`. nullopt: go on. --help: the help text, exit 0. --version (set with
// app.set_version_flag("--version", "PROGRAM 1.2.3")): that string, exit 0. A parse error:
// usage_error(app name, CLI11's message), exit kUsageExit.
std::optional<FlagsExit> parse_flags(CLI::App& app, int argc, const char* const* argv);

// Prints `done.text` on stdout or stderr as FlagsExit says and returns its exit code.
int finish(const FlagsExit& done);

}  // namespace nodeagent::cli
