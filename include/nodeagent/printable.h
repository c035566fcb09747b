#pragma once
// The one sanitiser for showing a string that came from an agent (or anything else untrusted) on a
// terminal, in a log line or in a text page. Every string the client library puts into an
// Error's message() has been through it, and node-agent-client and Kiada print agent answers
// through it.
//
// printable() keeps printable ASCII and well-formed UTF-8 and replaces everything that could move
// the cursor, recolour the terminal, or start a line that was never sent:
//   - C0 controls (U+0000-U+001F: NUL, BEL, BS, TAB, LF, CR, ESC, ...), DEL (U+007F) and the C1
//     controls (U+0080-U+009F, e.g. CSI U+009B) become `\u00XX` (JSON's escape form, so a JSON
//     string stays valid JSON after it);
//   - the Unicode line/paragraph separators (U+2028, U+2029) and the bidirectional overrides and
//     isolates (U+202A-U+202E, U+2066-U+2069), which reorder or break what a reader sees, become
//     `\u20XX`;
//   - bytes that are not well-formed UTF-8 (stray continuation bytes, overlong forms, surrogates,
//     truncated sequences) become `\xHH`, one per byte.
// A backslash is kept as is, so an escape in the output may also have been sent literally; the
// output never contains a control character either way. The result is idempotent:
// printable(printable(s)) == printable(s).
// Thread-safety: a pure function.

#include <string>
#include <string_view>

namespace nodeagent {

std::string printable(std::string_view text);

// Length of the well-formed UTF-8 sequence (RFC 3629) that starts at text[i], or 0 when the bytes
// there are not one (a stray continuation byte, an overlong form, a surrogate, a truncated
// sequence). For writers of formats that require UTF-8 (JSON strings, Prometheus label values).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

namespace client {
using nodeagent::printable;
}

}  // namespace nodeagent
