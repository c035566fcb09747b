#pragma once
// Checks shared by the parser fuzz targets: a parser must either succeed with sane values or fail
// with a one-line reason; anything else is a bug, so it aborts and libFuzzer keeps the input.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "nodeinfo/parsers.h"

namespace nodeagent::fuzz {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// A parsed number: the parsers promise no nan/inf and no negative values.
inline void check_number(double v, const char* what) { check(std::isfinite(v) && v >= 0, what); }

template <class T>
void check_error(const Result<T>& r) {
  if (r) return;
  const Error e = r.error();  // error() returns a copy
  check(e.code == Errc::kMalformed, "parse error is not kMalformed");
  check(!e.detail.empty(), "empty parse error");
  check(e.detail.find('\n') == std::string::npos, "parse error spans lines");
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace nodeagent::fuzz
