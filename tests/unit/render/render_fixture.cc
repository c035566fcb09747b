// Test helper: samples a host tree and prints one rendering, for checks by external tools
// (promtool, the JSON schema validator):
//   render_fixture <host-dir> text|json|sse|prometheus [node-name] [--until-utilisation]
// <host-dir> holds proc/ and sys/ (a fixture host, or "/" for this machine: /proc and /sys).
// --until-utilisation samples again (at most 300 times, 10 ms apart) until the cpu utilisation is
// known, so the document has no null there.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "nodeinfo/host_fs.h"
#include "nodeinfo/sampler.h"
#include "render/json.h"
#include "render/prometheus.h"
#include "render/text.h"

namespace {

int usage() {
  std::fputs(
      "usage: render_fixture <host-dir> text|json|sse|prometheus [node] [--until-utilisation]\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nodeagent;
  if (argc < 3) return usage();
  const std::filesystem::path root = argv[1];
  const std::string_view format = argv[2];
  std::string node = "fixture-node";
  bool until_utilisation = false;
  for (int i = 3; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--until-utilisation") {
      until_utilisation = true;
    } else {
      node = argv[i];
    }
  }
  auto fs = nodeinfo::HostFs::open(root / "proc", root / "sys");
  if (!fs) {
    std::fprintf(stderr, "render_fixture: %s\n", nodeinfo::describe_path_error(fs.error()).c_str());
    return 1;
  }
  nodeinfo::Sampler sampler(*fs, node);
  nodeinfo::Snapshot snap = sampler.sample();
  for (int i = 0; until_utilisation && !snap.cpu_utilisation && i < 300; ++i) {
    ::usleep(10 * 1000);
    snap = sampler.sample();
  }
  std::string out;
  if (format == "text") {
    auto t = render::render_text(snap);
    if (!t) {
      std::fprintf(stderr, "render_fixture: %s\n", t.error().detail.c_str());
      return 1;
    }
    out = std::move(*t);
  } else if (format == "json") {
    out = render::render_json(snap) + "\n";
  } else if (format == "sse") {
    out = render::render_sse_event(snap);
  } else if (format == "prometheus") {
    out = render::render_prometheus(snap);
  } else {
    return usage();
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
