#pragma once
// The gzip content coding (RFC 9110 section 8.4.1.3) for bodies that are compressed once and
// served many times, e.g. the agent's /metrics per sample. zlib from the distribution.

#include <string>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::http {

// `data` as one gzip member, at zlib's fastest level: the agent's metrics compress about 8:1
// even so, and a node agent's CPU matters more than the last bytes.
Result<std::string> gzip(std::string_view data);

}  // namespace nodeagent::http
