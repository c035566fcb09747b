#pragma once
// Runs one source on a host tree and looks at what it added, for the per-source table tests.

#include <grp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "../test_util.h"
#include "clock/clock.h"
#include "metrics/family.h"
#include "nodeinfo/source.h"

namespace nodeagent::nodeinfo::testing_util {

// A host tree (proc/, sys/, optionally root/) and the sources' options on it.
class SourceHost {
 public:
  explicit SourceHost(const std::filesystem::path& dir, std::string node = "test-node")
      : fs_(open_fs(dir)), options_{{}, fs_, clock_, 100, std::move(node)} {}

  SourceOptions& options() { return options_; }
  ManualClock& clock() { return clock_; }

  // Builds the named source (SourceInfo::name) from the registry; fails the test if unknown.
  std::unique_ptr<Source> make(std::string_view name) {
    for (const SourceInfo& info : all_sources()) {
      if (info.name != name) continue;
      auto made = info.make(options_);
      if (!made) {
        ADD_FAILURE() << name << ": " << made.error().detail;
        return nullptr;
      }
      return std::move(*made);
    }
    ADD_FAILURE() << "no source named " << name;
    return nullptr;
  }

  // One sample of `source` into a fresh Snapshot.
  Snapshot sample(Source& source) {
    Snapshot snap;
    snap.node_name = options_.node_name;
    snap.taken_at = clock_.system_now();
    SampleContext ctx{snap.taken_at, clock_.steady_now(), buf_, snap};
    source.sample(ctx);
    return snap;
  }

 private:
  static HostFs open_fs(const std::filesystem::path& dir) {
    auto fs = HostFs::open(dir / "proc", dir / "sys");
    if (!fs) throw std::runtime_error("cannot open host " + dir.string());
    if (std::filesystem::exists(dir / "root")) {
      auto root = HostRoot::open(dir / "root");
      if (root) fs->rootfs = std::move(*root);
    }
    return std::move(*fs);
  }

  HostFs fs_;
  ManualClock clock_;
  SourceOptions options_;
  std::string buf_;
};

// For a death test's child (EXPECT_EXIT): become uid/gid 65534 when root, since root reads a
// mode-0 file anyway; the test process itself keeps its credentials. Exits 2 if it cannot.
inline void drop_root_or_exit() {
  if (::geteuid() == 0 &&
      (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
    std::fprintf(stderr, "cannot drop privileges\n");
    std::exit(2);
  }
}

// The value of the series of `family` whose label block is `labels` ("" for none), or nullopt.
inline std::optional<double> value_of(const Snapshot& s, std::string_view family,
                                      std::string_view labels = "") {
  const metrics::Family* f = s.families.find(family);
  if (!f) return std::nullopt;
  for (const metrics::Series& series : f->series) {
    if (series.labels != labels) continue;
    return std::visit([](auto v) { return static_cast<double>(v); }, series.value);
  }
  return std::nullopt;
}

}  // namespace nodeagent::nodeinfo::testing_util
