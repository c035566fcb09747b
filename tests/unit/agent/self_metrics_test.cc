#include "agent/self_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/self_proc.h"

namespace nodeagent::agent {
namespace {

// The lines of `body` that belong to `family`: its HELP, TYPE and samples.
std::string family_lines(const std::string& body, const std::string& family) {
  std::string out;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(start, end - start);
    if (line.starts_with("# HELP " + family + " ") || line.starts_with("# TYPE " + family + " ") ||
        line.starts_with(family + " ") || line.starts_with(family + "{")) {
      out += line + "\n";
    }
    start = end + 1;
  }
  return out;
}

std::string render(const ProcessStats& process) {
  RequestCounters requests;
  http::ServerStats server;
  return render_self_metrics(SelfMetricsInput{requests, server, process});
}

// A directory standing in for /proc/self, holding a "statm" (and no "fd").
class FakeSelf {
 public:
  explicit FakeSelf(std::string_view statm) {
    char path[] = "/tmp/self_metrics_testXXXXXX";
    if (::mkdtemp(path) == nullptr) return;
    dir_ = path;
    std::ofstream out(dir_ / "statm", std::ios::binary);
    out.write(statm.data(), static_cast<std::streamsize>(statm.size()));
    written_ = static_cast<bool>(out);
  }
  ~FakeSelf() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Result<nodeinfo::HostRoot> open() const { return nodeinfo::HostRoot::open(dir_); }
  bool ok() const { return written_; }

 private:
  std::filesystem::path dir_;
  bool written_ = false;
};

TEST(ReadProcessStats, ReadsThisProcess) {
  ProcessStats s = read_process_stats(1700000000.5, open_self_proc());
  ASSERT_TRUE(s.resident_bytes) << s.resident_bytes.error().message();
  EXPECT_GT(*s.resident_bytes, 0u);
  EXPECT_EQ(*s.resident_bytes % static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)), 0u);
  ASSERT_TRUE(s.cpu_seconds) << s.cpu_seconds.error().message();
  EXPECT_GE(*s.cpu_seconds, 0.0);
  ASSERT_TRUE(s.open_fds) << s.open_fds.error().message();
  EXPECT_GE(*s.open_fds, 3u);  // stdin, stdout, stderr
  EXPECT_EQ(s.start_time_seconds, 1700000000.5);

  const std::string body = render(s);
  for (const char* name : {"process_resident_memory_bytes", "process_cpu_seconds_total",
                           "process_start_time_seconds", "process_open_fds"}) {
    const std::string lines = family_lines(body, name);
    EXPECT_NE(lines.find("# HELP "), std::string::npos) << name;
    EXPECT_NE(lines.find("# TYPE "), std::string::npos) << name;
    EXPECT_NE(lines.find(std::string("\n") + name + " "), std::string::npos) << name;
  }
}

TEST(ReadProcessStats, OpenFdsDoesNotCountItsOwnStream) {
  const auto self = open_self_proc();
  ProcessStats a = read_process_stats(0, self);
  ProcessStats b = read_process_stats(0, self);
  ASSERT_TRUE(a.open_fds && b.open_fds);
  EXPECT_EQ(*a.open_fds, *b.open_fds);
  // The count matches the descriptors a fresh pipe adds, no more.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ProcessStats c = read_process_stats(0, self);
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(c.open_fds);
  EXPECT_EQ(*c.open_fds, *a.open_fds + 2);
}

// The old collector published "process_resident_memory_bytes 0" and "process_open_fds 0" when
// /proc/self could not be read: an invented reading. A failed reading leaves its family out.
TEST(ReadProcessStats, AnUnreadableSourceLeavesItsFamilyOut) {
  FakeSelf garbage("\x1b[2Jnot statm at all\n");
  ASSERT_TRUE(garbage.ok());
  FakeSelf truncated("5373 1207 873");
  ASSERT_TRUE(truncated.ok());
  const std::vector<Result<nodeinfo::HostRoot>> roots = [&] {
    std::vector<Result<nodeinfo::HostRoot>> out;
    out.push_back(garbage.open());
    out.push_back(truncated.open());
    out.push_back(nodeinfo::HostRoot::open("/nonexistent"));
    return out;
  }();
  for (const auto& self : roots) {
    const std::string statm = self ? self->path().string() : self.error().detail;
    ProcessStats s = read_process_stats(42, self);
    ASSERT_FALSE(s.resident_bytes) << statm;
    ASSERT_FALSE(s.open_fds);
    EXPECT_EQ(s.open_fds.error().code, boost::system::errc::no_such_file_or_directory);

    const std::string body = render(s);
    EXPECT_EQ(family_lines(body, "process_resident_memory_bytes"), "") << statm;
    EXPECT_EQ(family_lines(body, "process_open_fds"), "");
    EXPECT_EQ(body.find("process_resident_memory_bytes"), std::string::npos) << body;
    EXPECT_EQ(body.find("process_open_fds"), std::string::npos);
    // The readings that did work are still there.
    EXPECT_NE(
        family_lines(body, "process_start_time_seconds").find("process_start_time_seconds 42"),
        std::string::npos);
    EXPECT_NE(family_lines(body, "process_cpu_seconds_total").find("# TYPE"), std::string::npos);
    EXPECT_NE(body.find("nodeagent_build_info{"), std::string::npos);
  }
  ProcessStats garbled = read_process_stats(0, garbage.open());
  EXPECT_EQ(garbled.resident_bytes.error().code, Errc::kMalformed);
}

TEST(RenderSelfMetrics, ADefaultProcessStatsInventsNothing) {
  const std::string body = render(ProcessStats{});
  EXPECT_EQ(body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_EQ(body.find("process_cpu_seconds_total"), std::string::npos);
  EXPECT_EQ(body.find("process_open_fds"), std::string::npos);
}

TEST(RenderSelfMetrics, ReadingsAreRenderedAsGiven) {
  ProcessStats s;
  s.resident_bytes = std::uint64_t{4943872};
  s.cpu_seconds = 1.25;
  s.open_fds = std::uint64_t{0};  // a real zero is published
  s.start_time_seconds = 1700000000;
  const std::string body = render(s);
  EXPECT_EQ(family_lines(body, "process_resident_memory_bytes"),
            "# HELP process_resident_memory_bytes Resident memory of the agent (VmRSS).\n"
            "# TYPE process_resident_memory_bytes gauge\n"
            "process_resident_memory_bytes 4943872\n");
  EXPECT_NE(body.find("\nprocess_cpu_seconds_total 1.25\n"), std::string::npos);
  EXPECT_NE(body.find("\nprocess_open_fds 0\n"), std::string::npos);
}

}  // namespace
}  // namespace nodeagent::agent
