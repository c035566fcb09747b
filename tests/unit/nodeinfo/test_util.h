#pragma once
// Temporary directory trees for HostFs/Sampler tests.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace nodeagent::nodeinfo::testing_util {

inline std::filesystem::path fixture_host(std::string_view name) {
  return std::filesystem::path(NODEAGENT_FIXTURES_DIR) / name;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nodeinfo-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, std::string_view content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

// Copies a fixture host into `dest` so a test may rewrite its files between samples.
inline void copy_host(std::string_view name, const std::filesystem::path& dest) {
  std::filesystem::copy(fixture_host(name), dest, std::filesystem::copy_options::recursive);
}

}  // namespace nodeagent::nodeinfo::testing_util
