#include "render/json.h"

#include <gtest/gtest.h>

#include "render/json_writer.h"

// Boost.JSON compiled into this test binary only (the renderer writes JSON itself).
#include <boost/json/src.hpp>
#include <limits>
#include <string>

#include "snapshot_fixture.h"

namespace nodeagent::render {
namespace {

namespace json = boost::json;
using testing_util::empty_snapshot;
using testing_util::full_snapshot;
using testing_util::sample_host;

json::object parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << text;
  EXPECT_TRUE(v.is_object()) << text;
  return v.is_object() ? v.as_object() : json::object{};
}

const char* const kTopKeys[] = {"node",
                                "time",
                                "time_unix_seconds",
                                "uptime_seconds",
                                "boot_time",
                                "boot_time_unix_seconds",
                                "load",
                                "threads",
                                "processes",
                                "cpu",
                                "memory",
                                "pressure",
                                "numa_nodes",
                                "kernel_release",
                                "os_pretty_name",
                                "disks",
                                "network_devices",
                                "filesystems",
                                "errors"};
const char* const kModes[] = {"user", "nice",    "system", "idle",  "iowait",
                              "irq",  "softirq", "steal",  "guest", "guest_nice"};

void expect_all_top_keys(const json::object& o) {
  EXPECT_EQ(o.size(), std::size(kTopKeys));
  for (const char* k : kTopKeys) EXPECT_TRUE(o.contains(k)) << k;
}

void expect_modes(const json::value& v) {
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.as_object().size(), std::size(kModes));
  for (const char* m : kModes) {
    ASSERT_TRUE(v.as_object().contains(m)) << m;
    EXPECT_TRUE(v.at(m).is_number()) << m;
  }
}

TEST(RenderJson, FullSnapshotValuesAndTypes) {
  const std::string text = render_json(full_snapshot());
  EXPECT_EQ(text.find('\n'), std::string::npos);  // one line, ready for SSE
  const json::object o = parse(text);
  expect_all_top_keys(o);
  EXPECT_EQ(o.at("node").as_string(), "kind-worker");
  EXPECT_EQ(o.at("time").as_string(), "2024-05-20T10:13:20.250Z");
  EXPECT_DOUBLE_EQ(o.at("time_unix_seconds").to_number<double>(), 1716200000.25);
  EXPECT_DOUBLE_EQ(o.at("uptime_seconds").to_number<double>(), 21490.99);
  EXPECT_EQ(o.at("boot_time").as_string(), "2024-05-20T04:15:09.000Z");
  EXPECT_EQ(o.at("boot_time_unix_seconds").to_number<std::int64_t>(), 1716178509);
  EXPECT_DOUBLE_EQ(o.at("load").at("1m").to_number<double>(), 1.62);
  EXPECT_DOUBLE_EQ(o.at("load").at("5m").to_number<double>(), 1.83);
  EXPECT_DOUBLE_EQ(o.at("load").at("15m").to_number<double>(), 2.25);
  EXPECT_EQ(o.at("threads").at("running").to_number<int>(), 2);
  EXPECT_EQ(o.at("threads").at("total").to_number<int>(), 3479);
  EXPECT_EQ(o.at("processes").at("context_switches_total").to_number<std::uint64_t>(), 9876543210u);
  EXPECT_EQ(o.at("processes").at("forks_total").to_number<int>(), 4321);
  EXPECT_EQ(o.at("processes").at("running").to_number<int>(), 3);
  EXPECT_EQ(o.at("processes").at("blocked").to_number<int>(), 1);

  const auto& cpu = o.at("cpu");
  EXPECT_EQ(cpu.at("count").to_number<int>(), 2);
  expect_modes(cpu.at("seconds"));
  EXPECT_DOUBLE_EQ(cpu.at("seconds").at("user").to_number<double>(), 100.5);
  expect_modes(cpu.at("utilisation"));
  EXPECT_DOUBLE_EQ(cpu.at("utilisation").at("idle").to_number<double>(), 0.7);
  ASSERT_EQ(cpu.at("per_cpu").as_array().size(), 2u);
  EXPECT_EQ(cpu.at("per_cpu").as_array()[1].at("cpu").to_number<int>(), 1);
  expect_modes(cpu.at("per_cpu").as_array()[1].at("seconds"));

  const auto& mem = o.at("memory");
  EXPECT_EQ(mem.at("total_bytes").to_number<std::uint64_t>(), 8ull << 30);
  EXPECT_EQ(mem.at("available_bytes").to_number<std::uint64_t>(), 6ull << 30);
  EXPECT_EQ(mem.at("used_bytes").to_number<std::uint64_t>(), 2ull << 30);
  EXPECT_EQ(mem.at("free_bytes").to_number<std::uint64_t>(), 1ull << 30);
  EXPECT_EQ(mem.at("buffers_bytes").to_number<std::uint64_t>(), 1ull << 20);
  EXPECT_EQ(mem.at("cached_bytes").to_number<std::uint64_t>(), 2ull << 30);
  EXPECT_EQ(mem.at("swap_total_bytes").to_number<std::uint64_t>(), 1ull << 30);
  EXPECT_EQ(mem.at("swap_free_bytes").to_number<std::uint64_t>(), 1ull << 29);
  EXPECT_EQ(mem.at("swap_used_bytes").to_number<std::uint64_t>(), 1ull << 29);

  const auto& p = o.at("pressure");
  EXPECT_DOUBLE_EQ(p.at("cpu").at("some").at("avg10").to_number<double>(), 1.53);
  EXPECT_DOUBLE_EQ(p.at("cpu").at("some").at("total_seconds").to_number<double>(), 9182.73645);
  EXPECT_TRUE(p.at("cpu").at("full").is_null());
  EXPECT_DOUBLE_EQ(p.at("io").at("full").at("avg300").to_number<double>(), 1.87);
  EXPECT_DOUBLE_EQ(p.at("memory").at("full").at("total_seconds").to_number<double>(), 0.987654);

  EXPECT_EQ(o.at("numa_nodes").to_number<std::uint32_t>(), 2u);
  EXPECT_EQ(o.at("kernel_release").as_string(), "6.1.0-18-amd64");
  EXPECT_TRUE(o.at("errors").as_array().empty());
}

TEST(RenderJson, MissingSourcesAreNullNeverOmitted) {
  const json::object o = parse(render_json(empty_snapshot()));
  expect_all_top_keys(o);
  for (const char* k : {"uptime_seconds", "boot_time", "boot_time_unix_seconds", "load", "threads",
                        "processes", "cpu", "memory", "numa_nodes", "kernel_release"}) {
    EXPECT_TRUE(o.at(k).is_null()) << k;
  }
  for (const char* r : {"cpu", "memory", "io"}) EXPECT_TRUE(o.at("pressure").at(r).is_null());
  ASSERT_EQ(o.at("errors").as_array().size(), 2u);
  EXPECT_EQ(o.at("errors").as_array()[1].as_string(),
            "/host/proc/loadavg: malformed: bad load1 \"nan\"");
}

TEST(RenderJson, PartialMemoryAndFirstSample) {
  auto s = full_snapshot();
  s.memory.available.reset();  // kernel < 3.14
  s.cpu_utilisation.reset();   // first sample
  const json::object o = parse(render_json(s));
  EXPECT_TRUE(o.at("memory").at("available_bytes").is_null());
  EXPECT_TRUE(o.at("memory").at("used_bytes").is_null());  // derived from available: not guessed
  EXPECT_TRUE(o.at("memory").at("total_bytes").is_number());
  EXPECT_TRUE(o.at("cpu").at("utilisation").is_null());
}

TEST(RenderJson, NonFiniteNumbersBecomeNull) {
  auto s = full_snapshot();
  s.uptime_seconds = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(parse(render_json(s)).at("uptime_seconds").is_null());
}

TEST(RenderJson, EveryFixtureHostParses) {
  for (const char* host :
       {"vm-2cpu-psi", "server-64cpu-psi", "tiny-1cpu-nopsi", "truncated", "garbage"}) {
    SCOPED_TRACE(host);
    const json::object o = parse(render_json(sample_host(host, host)));
    expect_all_top_keys(o);
    EXPECT_EQ(o.at("node").as_string(), host);
  }
  const json::object big = parse(render_json(sample_host("server-64cpu-psi", "n")));
  EXPECT_EQ(big.at("cpu").at("per_cpu").as_array().size(), 64u);
  EXPECT_EQ(big.at("boot_time").as_string(), "2024-05-20T10:13:20.000Z");
  const json::object tiny = parse(render_json(sample_host("tiny-1cpu-nopsi", "n")));
  EXPECT_TRUE(tiny.at("pressure").at("cpu").is_null());
  EXPECT_TRUE(tiny.at("errors").as_array().empty());
  const json::object garbage = parse(render_json(sample_host("garbage", "n")));
  EXPECT_EQ(garbage.at("errors").as_array().size(), 13u);
  // The summaries of the per-device sources, from the fixture's diskstats and PID 1's net/dev.
  const auto& disks = big.at("disks").as_array();
  ASSERT_EQ(disks.size(), 4u);  // dm-0 nvme0n1 sr0 vda: partitions and loop0 left out
  EXPECT_EQ(disks.at(0).at("device").as_string(), "dm-0");
  const auto& devices = big.at("network_devices").as_array();
  EXPECT_EQ(devices.size(), 6u);  // lo left out
  for (const auto& d : devices) EXPECT_NE(d.at("device").as_string(), "lo");
}

TEST(RenderJson, StringsAreEscaped) {
  auto s = full_snapshot();
  s.node_name = std::string("a\"b\\c\nd\te\x01") + "\xc3\xa9" + "\xff" + "\xe2\x82";
  const std::string text = render_json(s);
  EXPECT_NE(text.find(R"("a\"b\\c\nd\te\u0001é)"), std::string::npos) << text;
  const json::object o = parse(text);
  EXPECT_EQ(o.at("node").as_string(),
            "a\"b\\c\nd\te\x01\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(RenderJson, Rfc3339) {
  using std::chrono::milliseconds;
  using std::chrono::system_clock;
  EXPECT_EQ(format_rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point(milliseconds(951782400999))),
            "2000-02-29T00:00:00.999Z");
  EXPECT_EQ(format_rfc3339(system_clock::time_point(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
}

TEST(RenderSse, OneEventWithIdAndOneDataLine) {
  const auto s = full_snapshot();
  const std::string json_text = render_json(s);
  const std::string ev = render_sse_event(s);
  EXPECT_EQ(ev, "id: 1716200000250\nevent: node\ndata: " + json_text + "\n\n");
  EXPECT_EQ(render_sse_event(s, json_text), ev);
  // Exactly the three field lines and the blank line ending the event.
  EXPECT_EQ(std::count(ev.begin(), ev.end(), '\n'), 4);
}

TEST(RenderJson, DeviceSummaries) {
  auto s = full_snapshot();
  s.os_pretty_name = "Debian GNU/Linux 12 (bookworm)";
  s.disks = {{"nvme0n1", 1024, 2048, 1.5, 512.0, std::nullopt}};
  s.net_devices = {{"eth0", 10, 20, 1, 2, 0, 0, 3, 4, 100.0, 200.0}};
  nodeinfo::FilesystemReading root{"/", "/dev/nvme0n1p1", "ext4", false, 100, 60, 50, 10, 5, {}};
  nodeinfo::FilesystemReading nfs{
      "/mnt/nfs", "srv:/x", "nfs4", true, {},
      {},         {},       {},     {},   "statfs /host/root/mnt/nfs: no answer for 5s"};
  s.filesystems = {root, nfs};
  const auto doc = boost::json::parse(render_json(s)).as_object();
  EXPECT_EQ(doc.at("os_pretty_name").as_string(), "Debian GNU/Linux 12 (bookworm)");
  const auto& disk = doc.at("disks").as_array().at(0).as_object();
  EXPECT_EQ(disk.at("device").as_string(), "nvme0n1");
  EXPECT_EQ(disk.at("written_bytes").as_int64(), 2048);
  EXPECT_EQ(disk.at("read_bytes_per_second").to_number<double>(), 512.0);
  EXPECT_TRUE(disk.at("written_bytes_per_second").is_null());
  const auto& eth = doc.at("network_devices").as_array().at(0).as_object();
  EXPECT_EQ(eth.at("transmit_drop").as_int64(), 4);
  EXPECT_EQ(eth.at("transmit_bytes_per_second").to_number<double>(), 200.0);
  const auto& fs = doc.at("filesystems").as_array();
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs.at(0).at("avail_bytes").as_int64(), 50);
  EXPECT_FALSE(fs.at(0).at("readonly").as_bool());
  EXPECT_TRUE(fs.at(0).at("error").is_null());
  EXPECT_TRUE(fs.at(1).at("size_bytes").is_null());
  EXPECT_TRUE(fs.at(1).at("readonly").as_bool());
  EXPECT_EQ(fs.at(1).at("error").as_string(), "statfs /host/root/mnt/nfs: no answer for 5s");
}

TEST(JsonWriter, PlacesEveryCommaItself) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("a").value(std::uint64_t{1});
  w.key("b").begin_array();
  w.value("x\"y");
  w.null();
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.value(2.5);
  w.end_array();
  w.key("c").value(std::optional<double>{});
  w.key("d").value(std::numeric_limits<double>::infinity());
  w.key("e").value(true);
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x\"y",null,{},[],2.5],"c":null,"d":null,"e":true})");
}

}  // namespace
}  // namespace nodeagent::render
