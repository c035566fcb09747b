#pragma once
// The pure parser of /proc/sys/fs/file-nr (sources/filefd.cc), for its table test.
// Conventions as in nodeinfo/parsers.h.

#include <cstdint>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::nodeinfo {

// /proc/sys/fs/file-nr: "<allocated>\t<unused>\t<maximum>\n", the system-wide count of file
// handles the kernel allocated, the allocated ones free for reuse (always 0 since Linux 2.6),
// and fs.file-max.
struct FileNr {
  std::uint64_t allocated = 0;
  std::uint64_t unused = 0;
  std::uint64_t maximum = 0;
};
Result<FileNr> parse_file_nr(std::string_view text);

}  // namespace nodeagent::nodeinfo
