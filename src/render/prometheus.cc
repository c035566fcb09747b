#include "render/prometheus.h"

namespace nodeagent::render {

std::string render_prometheus(const nodeinfo::Snapshot& s) {
  std::string out;
  // About 48 bytes per series; one growth at most for a family set unlike the last.
  std::size_t series = 0;
  for (const auto& f : s.families.families()) series += f.series.size() + 2;
  out.reserve(series * 48);
  metrics::append_text(out, s.families);
  return out;
}

}  // namespace nodeagent::render
