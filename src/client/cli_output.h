#pragma once
// How node-agent-client prints what an agent sent: every byte goes through printable(), so an
// answer cannot drive the terminal or forge a line. Apart from main.cc so it can be tested.
// Thread-safety: pure functions.

#include <string>
#include <string_view>

namespace nodeagent::client::cli_output {

// A JSON document as one safe line: insignificant whitespace outside strings (CR, LF, TAB)
// becomes a space, trailing whitespace goes, and the rest passes through printable() (which
// keeps valid JSON valid: a raw C1 or separator inside a string becomes a `\u` escape). Also fine
// for data that is not JSON: it is then just made printable.
std::string json_line(std::string_view json);

// A body of lines (e.g. /metrics for --get): each '\n'-terminated line through printable(), the
// line breaks kept. A CR or any other control byte inside a line is escaped, never sent.
std::string printable_lines(std::string_view body);

}  // namespace nodeagent::client::cli_output
