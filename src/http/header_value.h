#pragma once
// Reading header values: ASCII case-insensitive comparison, whitespace trimming and the Accept
// header's ranking of media types. Shared by the server, the agent's routes and Kiada's pages.

#include <string_view>

namespace nodeagent::http {

// ASCII case-insensitive equality (header names, media types, "localhost").
bool iequals(std::string_view a, std::string_view b);

// Without the optional whitespace (spaces and tabs) around a header value or list element.
std::string_view trim_ows(std::string_view s);

// How much the Accept header wants `media_type` ("type/subtype"), in thousandths (q=0.5 -> 500):
// the most specific matching range decides (type/subtype over type/* over */*), as RFC 9110
// section 12.5.1 says; among equally specific ranges the first wins, and media-type parameters
// other than q are ignored. 0 when no range matches, when the match has q=0 or a q that is not
// an RFC 9110 qvalue, and for an empty header: callers pick their default themselves.
// Accept-Encoding reads the same way (section 12.5.3): accept_quality(value, "gzip"), with "*"
// matching any coding.
int accept_quality(std::string_view accept, std::string_view media_type);

}  // namespace nodeagent::http
