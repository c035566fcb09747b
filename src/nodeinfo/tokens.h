#pragma once
// The small tokenizer every /proc parser shares (the host parsers in parsers.cc and the agent's
// /proc/self parsers): lines, blank-separated fields, plain decimal counts, and the one safe way
// to quote a bad token in an error.

#include <cstdint>
#include <string>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// A parser's refusal (Errc::kMalformed); line_error() puts "line N: " before the reason.
Error malformed(std::string reason);
Error line_error(std::size_t line_no, std::string_view what);

// Splits off the next line (without '\n'); the rest when there is no '\n'.
std::string_view next_line(std::string_view& rest);

inline bool is_blank(char c) { return c == ' ' || c == '\t'; }  // space or tab

// Next blank-separated token; empty when only blanks are left.
std::string_view next_field(std::string_view& rest);

bool only_blanks(std::string_view s);

// Digits only (no sign, no blanks), fitting 64 bits.
bool to_u64(std::string_view tok, std::uint64_t& out);

// A short, printable excerpt of the offending token. A root may point at files we should not
// publish (a symlink was refused, but a bind mount is not), so an error quotes at most
// kMaxExcerpt (parsers.h) bytes, and only printable ASCII other than the quote and backslash.
std::string quoted(std::string_view tok);

}  // namespace nodeagent::nodeinfo
