#pragma once
// The agent's own process readings from its /proc/self (the agent's own procfs mount, never the
// host's --procfs): pure parsers for the two files it uses, and the root they are read through
// (a nodeinfo::HostRoot, with the same beneath-only, regular-file-only and size rules as the
// host's roots).
//
// The parsers take the whole file as text and return the fields or an Error{Errc::kMalformed}
// saying what is wrong, quoting at most kMaxSelfExcerpt bytes of the input with anything but
// printable ASCII replaced by '?', so the detail is one safe line however odd the bytes. Like the
// host parsers they require the trailing newline the kernel always writes, so a short read is
// reported instead of half-parsed; numbers are plain decimal digits (no sign, no spaces inside).
//
// Thread-safety: the parsers are pure; open_self_proc() only opens a directory.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nodeagent/error.h"
#include "nodeinfo/host_fs.h"
#include "nodeinfo/parsers.h"

namespace nodeagent::agent {

inline constexpr std::size_t kMaxSelfExcerpt = nodeinfo::kMaxExcerpt;  // the same quoting rule

// /proc/self/statm: "size resident shared text lib data dt\n", seven counts of pages.
struct Statm {
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  std::uint64_t shared_pages = 0;
  std::uint64_t text_pages = 0;
  std::uint64_t lib_pages = 0;
  std::uint64_t data_pages = 0;
  std::uint64_t dirty_pages = 0;  // always 0 since Linux 2.6
};
Result<Statm> parse_statm(std::string_view text);

// The "Threads:" line of /proc/self/status ("Threads:\t7\n"): how many threads the process has,
// at least 1. Other lines are not looked at beyond finding their start; a missing, repeated,
// unterminated or non-numeric Threads line is malformed.
Result<unsigned> parse_status_threads(std::string_view text);

// This process's own /proc/self, as a root: read_file("status"), read_file("statm"),
// count_entries("fd"), inode("ns/net"). The root is this process's /proc/<pid> directory, which
// stays this process's however the "self" link is resolved later. The error's detail is
// "/proc/self", its code the errno (a chroot without /proc: ENOENT).
inline constexpr std::string_view kSelfProc = "/proc/self";
Result<nodeinfo::HostRoot> open_self_proc();

}  // namespace nodeagent::agent
