#pragma once
// STAND-IN, to be replaced by the client library's nodeagent::client::printable() (issue 13 #9)
// once it is in main: same signature, same contract. Every agent string Kiada prints or puts in
// a page goes through it, so that nothing an agent sends can move a terminal's cursor or forge a
// line of the text page.
// Thread-safety: pure function.

#include <string>
#include <string_view>

namespace nodeagent::kiada {

// Control characters (C0 including CR, LF, ESC, NUL and BEL; DEL; C1, also in their UTF-8
// form) each become '?'. Everything else, multi-byte UTF-8 included, is kept.
std::string printable(std::string_view s);

}  // namespace nodeagent::kiada
