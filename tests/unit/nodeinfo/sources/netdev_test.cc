// parse_netdev tables and the netdev source on fixture and temporary hosts.
#include "nodeinfo/sources/netdev.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "source_test_util.h"

namespace nodeagent::nodeinfo {
namespace {

using testing_util::fixture_host;
using testing_util::SourceHost;
using testing_util::TempDir;
using testing_util::value_of;
using testing_util::write_file;

constexpr std::string_view kHeader =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n";

// A temporary host tree with empty proc/ and sys/ roots; tests write the files.
class TempHost : public TempDir {
 public:
  TempHost() {
    std::filesystem::create_directories(path() / "proc");
    std::filesystem::create_directories(path() / "sys");
  }
};

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// "  <name>: ..." with 16 counters, counter i holding base + i.
std::string dev_line(std::string_view name, std::uint64_t base = 1) {
  std::string out = "  " + std::string(name) + ":";
  for (std::size_t i = 0; i < kNetDevFields; ++i) out += " " + std::to_string(base + i);
  return out + "\n";
}

std::string net_dev(std::initializer_list<std::string> lines) {
  std::string out(kHeader);
  for (const std::string& l : lines) out += l;
  return out;
}

// ---- parse_netdev

TEST(ParseNetdev, CapturedFixture) {
  auto r = parse_netdev(read_text(fixture_host("vm-2cpu-psi") / "proc/1/net/dev"));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 4u);
  EXPECT_EQ(r->devices[0].device, "lo");
  EXPECT_EQ(r->devices[3].device, "eth0");
  EXPECT_EQ(r->devices[3][NetDevStat::kReceiveBytes], 198221966u);
  EXPECT_EQ(r->devices[3][NetDevStat::kTransmitPackets], 2199u);
  EXPECT_EQ(r->skipped, 0u);
}

TEST(ParseNetdev, EveryColumnInOrder) {
  auto r = parse_netdev(net_dev({dev_line("eth0", 100)}));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 1u);
  for (std::size_t i = 0; i < kNetDevFields; ++i) EXPECT_EQ(r->devices[0].stats[i], 100 + i);
  EXPECT_EQ(r->devices[0][NetDevStat::kTransmitCompressed], 115u);
}

TEST(ParseNetdev, LongNameGluedToTheFirstNumber) {
  auto r = parse_netdev(net_dev({"vethab12cd34:123456789 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
                                 "  eth0:4294967296 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"}));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 2u);
  EXPECT_EQ(r->devices[0].device, "vethab12cd34");
  EXPECT_EQ(r->devices[0][NetDevStat::kReceiveBytes], 123456789u);
  EXPECT_EQ(r->devices[1].device, "eth0");
  EXPECT_EQ(r->devices[1][NetDevStat::kReceiveBytes], 4294967296u);
}

TEST(ParseNetdev, HeaderOnlyIsNoDevices) {
  auto r = parse_netdev(std::string(kHeader));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->devices.empty());
}

TEST(ParseNetdev, ColumnsOfFutureKernelsAreIgnored) {
  auto r = parse_netdev(net_dev({"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n"}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->devices[0][NetDevStat::kTransmitCompressed], 16u);
}

TEST(ParseNetdev, HostileNamesAreSkipped) {
  const std::string long_name(kMaxNetDeviceNameLength + 1, 'e');
  auto r = parse_netdev(
      net_dev({dev_line("eth0"), dev_line("et\"h}"), dev_line("eth 1"), dev_line("\x1b[31m"),
               dev_line(long_name), dev_line(""), dev_line("flannel.1"), dev_line("br-1a2b_c")}));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 3u);
  EXPECT_EQ(r->devices[0].device, "eth0");
  EXPECT_EQ(r->devices[1].device, "flannel.1");
  EXPECT_EQ(r->devices[2].device, "br-1a2b_c");
  EXPECT_EQ(r->skipped, 5u);
}

TEST(ParseNetdev, RepeatedNameKeepsTheFirst) {
  auto r = parse_netdev(net_dev({dev_line("eth0", 1), dev_line("eth0", 50)}));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0][NetDevStat::kReceiveBytes], 1u);
  EXPECT_EQ(r->skipped, 1u);
}

TEST(ParseNetdev, TooManyDevicesAreRefused) {
  std::string text(kHeader);
  for (std::size_t i = 0; i <= kMaxNetDevices; ++i) text += dev_line("veth" + std::to_string(i));
  auto r = parse_netdev(text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("more than 4096 devices"), std::string::npos);
}

struct BadCase {
  const char* name;
  std::string input;
  const char* reason_contains;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

class ParseNetdevBad : public testing::TestWithParam<BadCase> {};
TEST_P(ParseNetdevBad, Rejected) {
  auto r = parse_netdev(GetParam().input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_NE(r.error().message().find(GetParam().reason_contains), std::string::npos)
      << r.error().message();
  EXPECT_EQ(r.error().detail.find('\n'), std::string::npos);
}
INSTANTIATE_TEST_SUITE_P(
    Table, ParseNetdevBad,
    testing::Values(
        BadCase{"empty", "", "empty"}, BadCase{"no_newline", net_dev({"  eth0: 1 2"}), "truncated"},
        BadCase{"one_header_line", "Inter-|   Receive |  Transmit\n", "line 2: expected a header"},
        BadCase{"no_header", dev_line("eth0") + dev_line("eth1"), "line 1: expected a header"},
        BadCase{"fifteen_counters", net_dev({"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"}),
                "line 3: expected 16 counters, got 15"},
        BadCase{"no_colon", net_dev({"  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"}),
                "line 3: expected \"<device>: <counters>\""},
        BadCase{"blank_line", net_dev({dev_line("eth0"), "\n"}), "line 4: expected"},
        BadCase{"word", net_dev({"  eth0: 1 2 3 4 5 6 7 8 nine 10 11 12 13 14 15 16\n"}),
                "bad counter \"nine\""},
        BadCase{"negative", net_dev({"  eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"}),
                "bad counter \"-1\""},
        BadCase{"nan", net_dev({"  eth0: nan 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"}),
                "bad counter \"nan\""},
        BadCase{"decimal", net_dev({"  eth0: 1.5 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"}),
                "bad counter \"1.5\""},
        BadCase{"overflow",
                net_dev({"  eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"}),
                "bad counter"},
        BadCase{"long_garbage_is_cut",
                net_dev({"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 " + std::string(300, 'z') +
                         "\n"}),
                "\"zzzzzzzzzzzzzzzz...\""}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- the netdev source

TEST(NetdevSource, FixtureHostExactValues) {
  SourceHost host(fixture_host("server-64cpu-psi"));
  auto source = host.make("netdev");
  ASSERT_TRUE(source);
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  const std::string eth0 = R"(device="eth0")";
  EXPECT_EQ(value_of(s, "node_network_receive_bytes_total", eth0), 123456789012.0);
  EXPECT_EQ(value_of(s, "node_network_receive_packets_total", eth0), 98765432);
  EXPECT_EQ(value_of(s, "node_network_receive_errs_total", eth0), 3);
  EXPECT_EQ(value_of(s, "node_network_receive_drop_total", eth0), 120);
  EXPECT_EQ(value_of(s, "node_network_receive_fifo_total", eth0), 0);
  EXPECT_EQ(value_of(s, "node_network_receive_frame_total", eth0), 2);
  EXPECT_EQ(value_of(s, "node_network_receive_compressed_total", eth0), 0);
  EXPECT_EQ(value_of(s, "node_network_receive_multicast_total", eth0), 4567);
  EXPECT_EQ(value_of(s, "node_network_transmit_bytes_total", eth0), 45678901234.0);
  EXPECT_EQ(value_of(s, "node_network_transmit_packets_total", eth0), 65432109);
  EXPECT_EQ(value_of(s, "node_network_transmit_errs_total", eth0), 0);
  EXPECT_EQ(value_of(s, "node_network_transmit_drop_total", eth0), 7);
  EXPECT_EQ(value_of(s, "node_network_transmit_fifo_total", eth0), 0);
  EXPECT_EQ(value_of(s, "node_network_transmit_colls_total", eth0), 0);
  EXPECT_EQ(value_of(s, "node_network_transmit_carrier_total", eth0), 1);
  EXPECT_EQ(value_of(s, "node_network_transmit_compressed_total", eth0), 0);
  EXPECT_EQ(value_of(s, "node_network_transmit_drop_total", R"(device="flannel.1")"), 12);
  EXPECT_EQ(s.families.families().size(), 16u);

  // lo is excluded by default; series in device name order.
  const metrics::Family* rx = s.families.find("node_network_receive_bytes_total");
  ASSERT_NE(rx, nullptr);
  EXPECT_EQ(rx->type, metrics::Type::kCounter);
  std::vector<std::string> labels;
  for (const metrics::Series& series : rx->series) labels.emplace_back(series.labels.view());
  EXPECT_EQ(labels,
            (std::vector<std::string>{R"(device="cni0")", R"(device="eth0")",
                                      R"(device="flannel.1")", R"(device="veth0c1d2e3f")",
                                      R"(device="veth5e6f7a8b")", R"(device="vethab12cd34")"}));

  ASSERT_EQ(s.net_devices.size(), 6u);
  const NetDeviceReading& e = s.net_devices[1];
  EXPECT_EQ(e.device, "eth0");
  EXPECT_EQ(e.receive_bytes, 123456789012u);
  EXPECT_EQ(e.transmit_bytes, 45678901234u);
  EXPECT_EQ(e.receive_packets, 98765432u);
  EXPECT_EQ(e.transmit_packets, 65432109u);
  EXPECT_EQ(e.receive_errs, 3u);
  EXPECT_EQ(e.transmit_errs, 0u);
  EXPECT_EQ(e.receive_drop, 120u);
  EXPECT_EQ(e.transmit_drop, 7u);
  EXPECT_FALSE(e.receive_bytes_per_second);  // first sample
  EXPECT_FALSE(e.transmit_bytes_per_second);
}

TEST(NetdevSource, ReadsPid1NotTheAgentsNamespace) {
  TempHost dir;
  write_file(dir.path() / "proc/1/net/dev", net_dev({dev_line("ens5", 1000)}));
  write_file(dir.path() / "proc/net/dev", net_dev({dev_line("eth0", 7)}));
  write_file(dir.path() / "proc/self/net/dev", net_dev({dev_line("eth0", 7)}));
  SourceHost host(dir.path());
  auto source = host.make("netdev");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.net_devices.size(), 1u);
  EXPECT_EQ(s.net_devices[0].device, "ens5");
  EXPECT_FALSE(value_of(s, "node_network_receive_bytes_total", R"(device="eth0")"));
}

TEST(NetdevSource, MissingPid1IsReportedWithoutFallback) {
  TempHost dir;
  write_file(dir.path() / "proc/net/dev", net_dev({dev_line("eth0")}));
  write_file(dir.path() / "proc/self/net/dev", net_dev({dev_line("eth0")}));
  SourceHost host(dir.path());
  auto source = host.make("netdev");
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], (dir.path() / "proc/1/net/dev").string() +
                             ": No such file or directory (needs the host's procfs without "
                             "hidepid)");
  EXPECT_TRUE(s.net_devices.empty());
  EXPECT_TRUE(s.families.families().empty());
}

TEST(NetdevSource, UnreadablePid1IsReported) {
  TempHost dir;
  const auto file = dir.path() / "proc/1/net/dev";
  write_file(file, net_dev({dev_line("eth0")}));
  std::filesystem::permissions(file, std::filesystem::perms::none);
  SourceHost host(dir.path());
  auto source = host.make("netdev");
  // In a child that is not root (root reads a mode-0 file anyway).
  auto sample_unprivileged = [&] {
    testing_util::drop_root_or_exit();
    Snapshot s = host.sample(*source);
    for (const std::string& e : s.errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::exit(s.errors.size() == 1 && s.net_devices.empty() && s.families.families().empty() ? 0
                                                                                             : 1);
  };
  // Other tests of this binary leave threads behind (statfs workers): fork only a fresh
  // process, as gtest advises for death tests in threaded programs (and TSan needs).
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(sample_unprivileged(), testing::ExitedWithCode(0),
              // (the child makes a tree of its own, so only the part below it is compared)
              "/proc/1/net/dev: Permission denied \\(needs the host's procfs without hidepid\\)");
}

TEST(NetdevSource, AnInterfaceNameThatCannotBeALabelIsLeftOutAndSaid) {
  TempHost dir;
  const auto file = dir.path() / "proc/1/net/dev";
  write_file(file, net_dev({dev_line("eth0"), dev_line("we\x1b[2Jird")}));
  SourceHost host(dir.path());
  auto source = host.make("netdev");
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0],
            file.string() + ": 1 lines left out (a name that cannot be a label, or repeated)");
  ASSERT_EQ(s.net_devices.size(), 1u);
  EXPECT_EQ(s.net_devices[0].device, "eth0");
}

TEST(NetdevSource, GarbageIsReportedAndNothingEmitted) {
  TempHost dir;
  write_file(dir.path() / "proc/1/net/dev", net_dev({dev_line("eth0"), "  eth1: 1 2\n"}));
  SourceHost host(dir.path());
  auto source = host.make("netdev");
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0], (dir.path() / "proc/1/net/dev").string() +
                             ": malformed: line 4: expected 16 counters, got 2");
  EXPECT_TRUE(s.net_devices.empty());
  EXPECT_TRUE(s.families.families().empty());
}

TEST(NetdevSource, RatesBetweenTwoSamples) {
  TempHost dir;
  const auto file = dir.path() / "proc/1/net/dev";
  // receive bytes = base, transmit bytes = base + 8
  write_file(file, net_dev({dev_line("eth0", 1000), dev_line("eth1", 9000)}));
  SourceHost host(dir.path());
  auto source = host.make("netdev");
  Snapshot first = host.sample(*source);
  ASSERT_EQ(first.net_devices.size(), 2u);
  EXPECT_FALSE(first.net_devices[0].receive_bytes_per_second);

  host.clock().advance(std::chrono::milliseconds(500));
  // eth0: +250 bytes both ways; eth1 went backwards (recreated), veth9 is new.
  write_file(file, net_dev({dev_line("eth0", 1250), dev_line("eth1", 3), dev_line("veth9", 5)}));
  Snapshot second = host.sample(*source);
  ASSERT_EQ(second.net_devices.size(), 3u);
  EXPECT_EQ(second.net_devices[0].device, "eth0");
  EXPECT_EQ(second.net_devices[0].receive_bytes_per_second, 500.0);
  EXPECT_EQ(second.net_devices[0].transmit_bytes_per_second, 500.0);
  EXPECT_EQ(second.net_devices[1].device, "eth1");
  EXPECT_FALSE(second.net_devices[1].receive_bytes_per_second);
  EXPECT_FALSE(second.net_devices[1].transmit_bytes_per_second);
  EXPECT_EQ(second.net_devices[2].device, "veth9");
  EXPECT_FALSE(second.net_devices[2].receive_bytes_per_second);

  host.clock().advance(std::chrono::seconds(2));
  write_file(file, net_dev({dev_line("eth0", 1250), dev_line("eth1", 103), dev_line("veth9", 5)}));
  Snapshot third = host.sample(*source);
  ASSERT_EQ(third.net_devices.size(), 3u);
  EXPECT_EQ(third.net_devices[0].receive_bytes_per_second, 0.0);
  EXPECT_EQ(third.net_devices[1].receive_bytes_per_second, 50.0);
  EXPECT_EQ(third.net_devices[2].transmit_bytes_per_second, 0.0);
}

TEST(NetdevSource, ExcludeRegexFromOptions) {
  TempHost dir;
  write_file(dir.path() / "proc/1/net/dev",
             net_dev({dev_line("lo"), dev_line("eth0"), dev_line("veth1"), dev_line("veth2")}));
  SourceHost host(dir.path());
  host.options().netdev_device_exclude = "^(lo|veth.*)$";
  auto source = host.make("netdev");
  Snapshot s = host.sample(*source);
  ASSERT_EQ(s.net_devices.size(), 1u);
  EXPECT_EQ(s.net_devices[0].device, "eth0");
}

TEST(NetdevSource, BadRegexFailsTheFactory) {
  TempHost dir;
  SourceHost host(dir.path());
  host.options().netdev_device_exclude = "[lo";
  for (const SourceInfo& info : all_sources()) {
    if (info.name != "netdev") continue;
    auto made = info.make(host.options());
    ASSERT_FALSE(made);
    EXPECT_NE(made.error().detail.find("netdev device exclude \"[lo\""), std::string::npos)
        << made.error().detail;
    return;
  }
  FAIL() << "netdev is not registered";
}

TEST(NetdevSource, CapturedHost) {
  SourceHost host(fixture_host("vm-2cpu-psi"));
  auto source = host.make("netdev");
  Snapshot s = host.sample(*source);
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.net_devices.size(), 3u);  // eth0, ifb0, ifb1; lo excluded
  EXPECT_EQ(s.net_devices[0].device, "eth0");
  EXPECT_EQ(value_of(s, "node_network_receive_bytes_total", R"(device="eth0")"), 198221966);
}

}  // namespace
}  // namespace nodeagent::nodeinfo
