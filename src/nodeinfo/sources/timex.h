#pragma once
// The kernel clock discipline's state as adjtimex(2) reports it (sources/timex.cc), and a
// factory that takes the call as a function, so tests can feed it values.

#include <cstdint>
#include <functional>
#include <memory>

#include "nodeagent/error.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo {

// The fields of struct timex the families need, as the kernel returns them (units as in
// adjtimex(2): offset and jitter in us, or ns when status has kStaNano; freq, ppsfreq and stabil
// in ppm scaled by 2^16; maxerror, esterror and tick in us).
struct Timex {
  int state = 0;  // the call's return value: TIME_OK (0) .. kTimeError
  std::int64_t offset = 0;
  std::int64_t freq = 0;
  std::int64_t maxerror = 0;
  std::int64_t esterror = 0;
  int status = 0;
  std::int64_t constant = 0;
  std::int64_t tick = 0;
  std::int64_t ppsfreq = 0;
  std::int64_t jitter = 0;
  int shift = 0;
  std::int64_t stabil = 0;
  std::int64_t jitcnt = 0;
  std::int64_t calcnt = 0;
  std::int64_t errcnt = 0;
  std::int64_t stbcnt = 0;
  int tai = 0;
};

inline constexpr int kTimeError = 5;     // TIME_ERROR: the clock is not synchronised
inline constexpr int kStaNano = 0x2000;  // STA_NANO: offset and jitter are in ns

// Reads the state; an error's code is the errno.
using TimexReader = std::function<Result<Timex>()>;

// The timex source with `read` in place of adjtimex(2) (make_timex_source uses the real call).
std::unique_ptr<Source> make_timex_source_with(TimexReader read);

}  // namespace nodeagent::nodeinfo
