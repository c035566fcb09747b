#include "cli/flags.h"

#include <cstdio>
#include <memory>

namespace nodeagent::cli {

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  std::string out;
  if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
  if (opt->get_type_size() == 0) return out;  // a flag: no value to describe
  // get_type_name() is the type name followed by ":<validator description>" per validator.
  std::string type = opt->get_type_name();
  if (auto colon = type.find(':'); colon != std::string::npos) type.resize(colon);
  if (!type.empty()) out += " " + type;
  if (!opt->get_default_str().empty()) out += "=" + opt->get_default_str();
  if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
  if (opt->get_required()) out += " (required)";
  return out;
}

void apply_house_style(CLI::App& app, std::string_view program, std::size_t column_width) {
  app.name(std::string(program));
  auto formatter = std::make_shared<HelpFormatter>();
  formatter->column_width(column_width);
  app.formatter(std::move(formatter));
}

std::string error_line(std::string_view program, std::string_view message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.remove_suffix(1);
  }
  std::string out(program);
  out += ": ";
  out += message;
  out += '\n';
  return out;
}

std::string usage_error(std::string_view program, std::string_view message) {
  std::string out = error_line(program, message);
  out += "Run '";
  out += program;
  out += " --help' for usage.\n";
  return out;
}

std::optional<FlagsExit> parse_flags(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return FlagsExit{0, app.help()};
  } catch (const CLI::CallForAllHelp&) {
    return FlagsExit{0, app.help("", CLI::AppFormatMode::All)};
  } catch (const CLI::CallForVersion& e) {
    std::string text = e.what();
    if (text.empty() || text.back() != '\n') text += '\n';
    return FlagsExit{0, std::move(text)};
  } catch (const CLI::ParseError& e) {
    return FlagsExit{kUsageExit, usage_error(app.get_name(), e.what())};
  }
  return std::nullopt;
}

int finish(const FlagsExit& done) {
  std::fputs(done.text.c_str(), done.exit_code == 0 ? stdout : stderr);
  return done.exit_code;
}

}  // namespace nodeagent::cli
