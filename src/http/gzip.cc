#include "http/gzip.h"

#include <zlib.h>

#include <limits>

namespace nodeagent::http {

Result<std::string> gzip(std::string_view data) {
  if (data.size() > std::numeric_limits<uInt>::max()) {
    return Error{Errc::kMalformed, "gzip: body too large"};
  }
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Error{Errc::kUnavailable, "gzip: cannot start the compressor"};
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);  // the bound guarantees one call is enough
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Error{Errc::kUnavailable, "gzip: compression did not finish"};
  return out;
}

}  // namespace nodeagent::http
