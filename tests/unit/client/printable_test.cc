// printable(): nothing an agent sends can reach a terminal as a control character.
#include "nodeagent/printable.h"

#include <gtest/gtest.h>

#include "client/cli_output.h"
#include "nodeagent/client.h"

namespace nodeagent::client {
namespace {

using namespace std::string_literals;

bool has_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return true;
    if (c >= 0x80 && c <= 0x9f && (i == 0 || static_cast<unsigned char>(s[i - 1]) < 0xc0)) {
      // a lone C1 byte (not a continuation byte of a longer sequence) would be one too
      if (i == 0 || static_cast<unsigned char>(s[i - 1]) < 0x80) return true;
    }
  }
  return false;
}

TEST(Printable, ReplacesEveryControlCharacter) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"n1 uptime: 5s", "n1 uptime: 5s"},
      {"\x1b[31mred", "\\u001b[31mred"},                        // ESC
      {"ok\rNode info: forged", "ok\\u000dNode info: forged"},  // bare CR
      {"a\nb", "a\\u000ab"},                                    // LF
      {"nul\0byte"s, "nul\\u0000byte"},                         // NUL
      {"bell\a", "bell\\u0007"},                                // BEL
      {"tab\there", "tab\\u0009here"},                          // TAB
      {"del\x7f", "del\\u007f"},                                // DEL
      {"csi\xc2\x9b"
       "2J",
       "csi\\u009b2J"},               // C1 CSI as UTF-8
      {"nel\xc2\x85", "nel\\u0085"},  // C1 NEL
      {"lone\x9b"
       "2J",
       "lone\\x9b2J"},                  // 8-bit CSI, not UTF-8
      {"ls\xe2\x80\xa8", "ls\\u2028"},  // LINE SEPARATOR
      {"rlo\xe2\x80\xae"
       "cod.exe",
       "rlo\\u202ecod.exe"},              // RIGHT-TO-LEFT OVERRIDE
      {"iso\xe2\x81\xa6", "iso\\u2066"},  // LEFT-TO-RIGHT ISOLATE
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e"},
      {"\xc3\xa9 \xc2\xa0", "\xc3\xa9 \xc2\xa0"},  // U+00A0 is printable
      {"over\xc0\x80long", "over\\xc0\\x80long"},  // overlong NUL
      {"sur\xed\xa0\x80", "sur\\xed\\xa0\\x80"},   // surrogate
      {"cut\xe2\x82", "cut\\xe2\\x82"},            // truncated sequence
      {"ff\xff", "ff\\xff"},
      {"back\\slash", "back\\slash"},
  };
  for (const Case& c : cases) {
    const std::string got = printable(c.in);
    EXPECT_EQ(got, c.out) << c.out;
    EXPECT_FALSE(has_control(got)) << c.out;
    EXPECT_EQ(printable(got), got) << "not idempotent: " << c.out;
  }
}

TEST(Printable, EveryByteValueAloneComesOutSafe) {
  for (int b = 0; b < 256; ++b) {
    const std::string got = printable(std::string(1, static_cast<char>(b)));
    EXPECT_FALSE(has_control(got)) << b;
    for (char c : got) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << b;  // one byte: ASCII
  }
}

TEST(Printable, ErrorMessagesAndBadStatusAreSafe) {
  Error e{ErrorCode::kProtocol, "bad HTTP from x: \x1b]0;pwned\a\r\n", 0};
  EXPECT_EQ(e.message(), "protocol error: bad HTTP from x: \\u001b]0;pwned\\u0007\\u000d\\u000a");
  HttpResponse response;
  response.status = 503;
  response.content_type = "text/plain";
  response.body = "loadavg\rNode info: n9 uptime: 1s\x1b[K\n";
  Endpoint ep = *parse_url("http://127.0.0.1:1");
  EXPECT_EQ(bad_status(ep, "/", response).message(),
            "bad status 503: GET /: loadavg\\u000dNode info: n9 uptime: 1s\\u001b[K");
}

TEST(CliOutput, JsonBecomesOneSafeLineAndStaysJson) {
  EXPECT_EQ(cli_output::json_line("{\"node\":\"n1\"}\n"), "{\"node\":\"n1\"}");
  EXPECT_EQ(cli_output::json_line("{\r\n\t\"node\" :\r\"n1\"}"), "{   \"node\" : \"n1\"}");
  // Escapes inside strings are left alone; a raw C1 inside a string becomes a JSON escape.
  EXPECT_EQ(cli_output::json_line("{\"a\":\"x\\\"\\r\xc2\x9b\"}"), "{\"a\":\"x\\\"\\r\\u009b\"}");
  // Not JSON at all: still safe.
  EXPECT_EQ(cli_output::json_line("\x1b[2J\rfoo"), "\\u001b[2J foo");
}

TEST(CliOutput, LinesKeepTheirBreaksAndLoseEverythingElse) {
  EXPECT_EQ(cli_output::printable_lines("a 1\nb 2\n"), "a 1\nb 2\n");
  EXPECT_EQ(cli_output::printable_lines("ready\r\n"), "ready\\u000d\n");
  EXPECT_EQ(cli_output::printable_lines("x\rforged\n\x1b[0m"), "x\\u000dforged\n\\u001b[0m");
  EXPECT_EQ(cli_output::printable_lines(""), "");
}

}  // namespace
}  // namespace nodeagent::client
