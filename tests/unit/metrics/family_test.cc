#include "metrics/family.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace nodeagent::metrics {
namespace {

std::string text_of(const FamilySet& set) {
  std::string out;
  append_text(out, set);
  return out;
}

TEST(FamilySet, WritesHelpTypeAndSamplesInOrder) {
  FamilySet set;
  set.gauge("a_bytes", "A size.", std::optional<std::uint64_t>(18446744073709551615u));
  set.counter("b_total", "Events.", std::optional<double>(1.5));
  auto& labelled = set.add("c", "Labelled.", Type::kUntyped);
  labelled.add({{"cpu", "0"}, {"mode", "idle"}}, std::int64_t{-3});
  labelled.add(labels({{"cpu", "1"}, {"mode", "idle"}}), 0.25);
  EXPECT_EQ(text_of(set),
            "# HELP a_bytes A size.\n# TYPE a_bytes gauge\na_bytes 18446744073709551615\n"
            "# HELP b_total Events.\n# TYPE b_total counter\nb_total 1.5\n"
            "# HELP c Labelled.\n# TYPE c untyped\n"
            "c{cpu=\"0\",mode=\"idle\"} -3\nc{cpu=\"1\",mode=\"idle\"} 0.25\n");
}

TEST(FamilySet, AMissingReadingOrAnEmptyFamilyWritesNothing) {
  FamilySet set;
  set.gauge("missing", "Not read.", std::optional<double>{});
  set.add("empty", "No series.", Type::kGauge);
  EXPECT_EQ(set.find("missing"), nullptr);
  ASSERT_NE(set.find("empty"), nullptr);
  EXPECT_EQ(text_of(set), "");
}

TEST(FamilySet, ValuesAsPrometheusReadsThem) {
  std::string out;
  for (const Value v : {Value{1716200000.25}, Value{1e-7}, Value{2.0},
                        Value{std::numeric_limits<double>::quiet_NaN()},
                        Value{std::numeric_limits<double>::infinity()},
                        Value{-std::numeric_limits<double>::infinity()}}) {
    append_value(out, v);
    out.push_back(' ');
  }
  EXPECT_EQ(out, "1716200000.25 1e-07 2 NaN +Inf -Inf ");
}

TEST(Labels, ValuesAreEscapedAndKeptUtf8) {
  EXPECT_EQ(labels({{"a", "x\"y\\z\nw"}}), R"(a="x\"y\\z\nw")");
  // Well-formed UTF-8 passes; a byte that is not (a mount source can be anything) becomes
  // U+FFFD, since Prometheus refuses the whole scrape over one invalid label value.
  EXPECT_EQ(labels({{"mountpoint", "/srv/d\xc3\xa4ta"}}), "mountpoint=\"/srv/d\xc3\xa4ta\"");
  EXPECT_EQ(labels({{"device", "sd\xff\xc3"}}), "device=\"sd\xef\xbf\xbd\xef\xbf\xbd\"");
  EXPECT_EQ(labels({{"d", "\xed\xa0\x80"}}), "d=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST(FamilySet, AppendMovesEveryFamily) {
  FamilySet a, b;
  a.gauge("x", "X.", std::optional<int>(1));
  b.gauge("y", "Y.", std::optional<int>(2));
  a.append(std::move(b));
  EXPECT_EQ(a.families().size(), 2u);
  EXPECT_TRUE(b.families().empty());
  EXPECT_EQ(text_of(a), "# HELP x X.\n# TYPE x gauge\nx 1\n# HELP y Y.\n# TYPE y gauge\ny 2\n");
}

TEST(Text, ALiteralIsViewedInPlace) {
  static constexpr char kName[] = "node_load1";
  const Text t = kName;
  EXPECT_EQ(t.view().data(), kName);
  EXPECT_EQ(t, "node_load1");
}

TEST(Text, CopiesShareOneStringThatOutlivesItsSource) {
  Text copy;
  {
    std::string made = "node_memory_" + std::string("Active_anon") + "_bytes";
    const Text t = std::move(made);
    copy = t;
    EXPECT_EQ(copy.view().data(), t.view().data());  // no second allocation
  }
  EXPECT_EQ(copy, "node_memory_Active_anon_bytes");
  Family f{"x", "Help.", Type::kGauge, {}};
  const Text labels = std::string("device=\"sda\"");
  f.add(labels, std::uint64_t{1});
  f.add(labels, std::uint64_t{2});
  EXPECT_EQ(f.series[0].labels.view().data(), f.series[1].labels.view().data());
}

TEST(LabelBlocks, AFamilyKeepsTheBlocksItsSeriesView) {
  FamilySet set;
  {
    const LabelBlocks blocks({labels({{"cpu", "0"}}), labels({{"cpu", "1"}})});
    Family& f = set.add("node_x_total", "X.", Type::kCounter);
    blocks.add(f, 1, std::uint64_t{5});
    blocks.add(f, 0, std::uint64_t{4});
    EXPECT_EQ(f.series[0].labels.view().data(), blocks[1].data());  // a view, not a copy
  }  // the source remade its blocks: the family still holds the old ones
  EXPECT_EQ(text_of(set),
            "# HELP node_x_total X.\n# TYPE node_x_total counter\n"
            "node_x_total{cpu=\"1\"} 5\nnode_x_total{cpu=\"0\"} 4\n");
}

}  // namespace
}  // namespace nodeagent::metrics
