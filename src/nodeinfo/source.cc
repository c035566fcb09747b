#include "nodeinfo/source.h"

#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {

Result<std::regex> compile_regex(std::string_view what, const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript | std::regex::nosubs);
  } catch (const std::regex_error& e) {
    return Error{Errc::kMalformed,
                 std::string(what) + " " + nodeinfo::quoted(pattern) + ": " + e.what()};
  }
}

Result<void> KeptFile::read(std::string& buf) {
  auto read_once = [&](const HostFile& f) {
    return whole_records_ ? f.read_all(buf) : f.read(buf);
  };
  if (file_.is_open()) {
    if (read_once(file_)) return {};
    file_ = HostFile();  // the kept file failed: fall back to opening it afresh
  }
  auto opened = root_->open_file(relative_);
  if (!opened) {
    buf.clear();
    return opened.error();
  }
  auto got = read_once(*opened);
  if (got && opened->kernel_generated()) file_ = std::move(*opened);
  return got;
}

bool KeptFile::read(std::string& buf, std::vector<std::string>& errors) {
  if (auto r = read(buf); !r) {
    errors.push_back(reason(r.error().code.message()));
    return false;
  }
  return true;
}

}  // namespace nodeagent::nodeinfo
