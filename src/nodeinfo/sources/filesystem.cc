// The host's mounts: the mount table of its init, <procfs>/1/mountinfo (the host's mount
// namespace, whatever namespace the agent runs in), and statfs(2) of "<rootfs>/<mountpoint>" for
// each mount the two exclude regexes keep.
//
// statfs can sleep for ever (a hard NFS mount whose server is gone), and the sampler must not.
// So the source owns a worker thread that does every statfs; sample() hands it the mounts that
// are due and copies the answers it has so far out of a table both share under a mutex. A call
// that has not returned after SourceOptions::filesystem_timeout (by the injected clock) marks its
// mount stuck: the worker is abandoned in its call, a new one takes over and skips stuck mounts,
// and the abandoned one, when its call finally returns, records the answer, clears the stuck
// mark and ends. Everything a worker touches is held by shared_ptr, so an abandoned worker may
// outlive the source.
#include "nodeinfo/sources/filesystem.h"

#include <sys/statfs.h>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <regex>
#include <system_error>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "nodeagent/printable.h"
#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// ---- the mountinfo parser ---------------------------------------------------------------

Error bad(std::string what) { return Error{Errc::kMalformed, std::move(what)}; }

bool is_mount_id_pair(std::string_view tok) {  // "major:minor"
  const std::size_t colon = tok.find(':');
  if (colon == std::string_view::npos) return false;
  std::uint64_t n = 0;
  return to_u64(tok.substr(0, colon), n) && to_u64(tok.substr(colon + 1), n);
}

// One line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER.
Result<MountEntry> parse_mount_line(std::string_view line) {
  if (line.size() > kMaxMountinfoLine) return bad("line longer than 64 KiB");
  std::string_view rest = line;
  std::string_view f[6];
  for (std::string_view& field : f) {
    field = next_field(rest);
    if (field.empty()) return bad("expected 6 fields before \" - \"");
  }
  std::uint64_t id = 0;
  if (!to_u64(f[0], id) || !to_u64(f[1], id)) return bad("bad mount id " + quoted(f[0]));
  if (!is_mount_id_pair(f[2])) return bad("bad major:minor " + quoted(f[2]));
  for (std::string_view tok = next_field(rest); tok != "-"; tok = next_field(rest)) {
    if (tok.empty()) return bad("no \" - \" separator");
  }
  const std::string_view fstype = next_field(rest);
  const std::string_view source = next_field(rest);
  const std::string_view super_options = next_field(rest);
  if (super_options.empty()) return bad("expected type, source and super options after \" - \"");
  if (!only_blanks(rest)) return bad("extra field " + quoted(next_field(rest)));
  if (fstype.size() > kMaxFsTypeLength) return bad("filesystem type longer than 256 bytes");

  MountEntry m;
  m.mountpoint = unescape_mount_path(f[4]);
  if (m.mountpoint.front() != '/') return bad("mount point " + quoted(f[4]) + " is not absolute");
  if (m.mountpoint.size() > kMaxMountPath) return bad("mount point longer than 4096 bytes");
  m.device = std::string(source);
  m.fstype = std::string(fstype);
  m.readonly = has_mount_option(f[5], "ro") || has_mount_option(super_options, "ro");
  return m;
}

// Keeps the last of the entries with equal (device, mountpoint, fstype), in its place.
void dedupe(std::vector<MountEntry>& mounts) {
  std::unordered_set<std::string> seen;
  std::vector<MountEntry> kept;
  kept.reserve(mounts.size());
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    std::string key = it->device + '\0' + it->mountpoint + '\0' + it->fstype;
    if (seen.insert(std::move(key)).second) kept.push_back(std::move(*it));
  }
  std::reverse(kept.begin(), kept.end());
  mounts = std::move(kept);
}

// ---- the worker's side ------------------------------------------------------------------

// A statfs to do: the mountpoint names it in the answers table, the path is what is statted.
struct Job {
  std::string mountpoint;
  std::string path;
};

struct Answer {
  std::optional<FsStats> stats;  // empty: `error` says why
  std::string error;             // the errno's message
};

// One worker thread. The sampler may abandon it while `busy` (its call has hung).
struct WorkerState {
  bool busy = false;
  bool abandoned = false;
  std::uint64_t calls = 0;  // counts its calls, so the sampler can tell a new call from a hung one
  Job current;              // the call in flight, while busy
};

// Everything the sampler and the workers share; `mu` guards all but `statfs`.
struct Shared {
  explicit Shared(StatfsFunction f) : statfs(std::move(f)) {}

  const StatfsFunction statfs;
  std::mutex mu;
  std::condition_variable wake;  // a round was posted, or stop
  bool stop = false;
  std::uint64_t posted = 0;                         // rounds posted by sample()
  std::uint64_t taken = 0;                          // the last round a worker took
  std::vector<Job> jobs;                            // the posted round, until a worker takes it
  std::unordered_map<std::string, Answer> answers;  // by mountpoint: the last answer
  std::unordered_set<std::string> stuck;            // mountpoints with a call that has not returned
  std::size_t abandoned = 0;                        // abandoned workers still in their call
};

Answer call_statfs(const StatfsFunction& statfs, const std::string& path) {
  try {
    auto r = statfs(path);
    if (r) return Answer{*r, {}};
    return Answer{std::nullopt, r.error().code.message()};
  } catch (const std::exception& e) {
    return Answer{std::nullopt, e.what()};
  }
}

// Waits for a round, statfs's each of its mounts that is not stuck, and stores the answers.
// Returns when told to stop, or after its call returns once it was abandoned.
void run_worker(std::shared_ptr<Shared> sh, std::shared_ptr<WorkerState> me) {
  std::unique_lock lock(sh->mu);
  for (;;) {
    sh->wake.wait(lock, [&] { return sh->stop || sh->posted != sh->taken; });
    if (sh->stop) return;
    sh->taken = sh->posted;
    std::vector<Job> jobs = std::move(sh->jobs);
    sh->jobs.clear();
    for (Job& job : jobs) {
      if (sh->stop) return;
      if (sh->stuck.contains(job.mountpoint)) continue;
      me->busy = true;
      ++me->calls;
      me->current = job;
      lock.unlock();
      Answer answer = call_statfs(sh->statfs, job.path);
      lock.lock();
      me->busy = false;
      sh->answers[job.mountpoint] = std::move(answer);
      if (me->abandoned) {
        sh->stuck.erase(job.mountpoint);
        --sh->abandoned;
        return;
      }
    }
  }
}

// ---- the sampler's side -----------------------------------------------------------------

constexpr std::size_t kMaxAbandonedWorkers = 8;
constexpr std::chrono::seconds kRemoteInterval{15};  // each statfs of a remote fs is an RPC
// At most this many remembered answers (a pod churn of unique volume paths must not grow it).
constexpr std::size_t kMaxCachedDecisions = 1024;

bool is_remote(std::string_view fstype) {
  static constexpr std::string_view kRemote[] = {"nfs",  "nfs4", "cifs",
                                                 "smb3", "ceph", "glusterfs"};
  return std::find(std::begin(kRemote), std::end(kRemote), fstype) != std::end(kRemote) ||
         fstype.starts_with("fuse.");
}

std::uint64_t bytes(std::uint64_t count, std::uint64_t unit) {
  std::uint64_t out = 0;
  if (__builtin_mul_overflow(count, unit, &out)) return std::numeric_limits<std::uint64_t>::max();
  return out;
}

std::string describe_timeout(std::chrono::milliseconds t) {
  if (t.count() % 1000 == 0) return std::to_string(t.count() / 1000) + "s";
  return std::to_string(t.count()) + "ms";
}

// A regex with its answers remembered per name (mount points and types repeat every sample).
class CachedMatcher {
 public:
  explicit CachedMatcher(std::regex re) : re_(std::move(re)) {}

  bool matches(const std::string& name) {
    if (auto it = cache_.find(name); it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCachedDecisions) cache_.clear();
    bool hit = false;
    try {
      hit = std::regex_search(name, re_);
    } catch (const std::regex_error&) {
      // Too complex for this name: keep the mount rather than drop it silently.
    }
    cache_.emplace(name, hit);
    return hit;
  }

 private:
  std::regex re_;
  std::unordered_map<std::string, bool> cache_;
};

// The families of one sample, in node_exporter's names and labels.
struct Families {
  metrics::Family size{"node_filesystem_size_bytes",
                       "Size of the filesystem in bytes (statfs f_blocks * f_bsize).",
                       metrics::Type::kGauge,
                       {}};
  metrics::Family free{"node_filesystem_free_bytes",
                       "Free bytes of the filesystem (statfs f_bfree * f_bsize).",
                       metrics::Type::kGauge,
                       {}};
  metrics::Family avail{"node_filesystem_avail_bytes",
                        "Bytes of the filesystem unprivileged users may still use (statfs "
                        "f_bavail * f_bsize).",
                        metrics::Type::kGauge,
                        {}};
  metrics::Family files{"node_filesystem_files",
                        "Inodes of the filesystem (statfs f_files).",
                        metrics::Type::kGauge,
                        {}};
  metrics::Family files_free{"node_filesystem_files_free",
                             "Free inodes of the filesystem (statfs f_ffree).",
                             metrics::Type::kGauge,
                             {}};
  metrics::Family readonly{"node_filesystem_readonly",
                           "1 when the mount's options say ro, else 0.",
                           metrics::Type::kGauge,
                           {}};
  metrics::Family device_error{"node_filesystem_device_error",
                               "1 when statfs of the mount failed or has not answered, else 0.",
                               metrics::Type::kGauge,
                               {}};

  void move_to(metrics::FamilySet& set) {
    for (metrics::Family* f :
         {&size, &free, &avail, &files, &files_free, &readonly, &device_error}) {
      set.add(std::move(*f));
    }
  }
};

class FilesystemSource final : public Source {
 public:
  FilesystemSource(const SourceOptions& o, std::regex mount_points, std::regex fs_types,
                   StatfsFunction statfs)
      : mountinfo_(o.fs.procfs, "1/mountinfo", /*whole_records=*/true),
        clock_(o.clock),
        timeout_(o.filesystem_timeout),
        rootfs_(o.fs.rootfs->path().native()),
        mount_points_(std::move(mount_points)),
        fs_types_(std::move(fs_types)),
        shared_(std::make_shared<Shared>(std::move(statfs))) {
    while (!rootfs_.empty() && rootfs_.back() == '/') rootfs_.pop_back();
  }

  FilesystemSource(const FilesystemSource&) = delete;
  FilesystemSource& operator=(const FilesystemSource&) = delete;

  // Stops the live worker; joins it unless it is in a call, which might be the one that hangs.
  ~FilesystemSource() override {
    bool busy = false;
    {
      std::lock_guard lock(shared_->mu);
      shared_->stop = true;
      busy = live_ && live_->busy;
    }
    shared_->wake.notify_all();
    if (!thread_.joinable()) return;
    if (busy) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!refresh_mounts(ctx.buf, s.errors)) return;
    const SteadyTime now = clock_.steady_now();
    std::vector<View> views;
    bool start_worker = false;
    {
      std::lock_guard lock(shared_->mu);
      check_live_worker(now);
      const bool stopped = shared_->abandoned >= kMaxAbandonedWorkers;
      if (stopped) {
        shared_->answers.clear();  // nothing refreshes them any more
        s.errors.push_back("statfs: " + std::to_string(shared_->abandoned) +
                           " calls have not returned; no more statfs until one does");
      } else {
        post_round(now);
        start_worker = !live_;
      }
      views = copy_answers();
    }
    if (start_worker) start_new_worker(s.errors);
    emit(views, s);
  }

 private:
  struct Mount {
    MountEntry entry;
    std::string path;  // <rootfs><mountpoint>
    bool remote = false;
    std::optional<SteadyTime> posted_at;  // when it was last handed to the worker
  };

  // What sample() knows of one mount after the copy.
  struct View {
    bool stuck = false;
    std::optional<Answer> answer;  // empty: not answered yet
  };

  // Reads mountinfo and rebuilds the mount list when it changed; false when there is none.
  // Not even read while the kernel says the mount namespace is unchanged.
  bool refresh_mounts(std::string& buf, std::vector<std::string>& errors) {
    // The poll runs every sample, so that a change is seen by the next one.
    const bool unchanged = mountinfo_.mounts_unchanged();
    if (unchanged && !text_.empty()) {
      if (!skip_reason_.empty()) errors.push_back(skip_reason_);
      return true;
    }
    if (!mountinfo_.read(buf, errors)) {
      text_.clear();
      return false;
    }
    if (buf != text_) {
      auto table = parse_mountinfo(buf);
      if (!table) {
        text_.clear();
        errors.push_back(mountinfo_.reason(table.error().message()));
        return false;
      }
      text_ = buf;
      skip_reason_.clear();
      if (table->skipped_lines > 0) {
        skip_reason_ = mountinfo_.reason("skipped " + std::to_string(table->skipped_lines) +
                                         " lines, the first: " + table->first_skip);
      }
      rebuild(std::move(table->mounts));
    }
    if (!skip_reason_.empty()) errors.push_back(skip_reason_);
    return true;
  }

  void rebuild(std::vector<MountEntry> entries) {
    std::unordered_map<std::string, std::optional<SteadyTime>> posted;
    for (const Mount& m : mounts_) posted[m.entry.mountpoint] = m.posted_at;
    mounts_.clear();
    for (MountEntry& e : entries) {
      if (mount_points_.matches(e.mountpoint) || fs_types_.matches(e.fstype)) continue;
      Mount m;
      m.path = rootfs_ + e.mountpoint;
      m.remote = is_remote(e.fstype);
      if (auto it = posted.find(e.mountpoint); it != posted.end()) m.posted_at = it->second;
      m.entry = std::move(e);
      mounts_.push_back(std::move(m));
    }
    std::sort(mounts_.begin(), mounts_.end(), [](const Mount& a, const Mount& b) {
      return std::tie(a.entry.device, a.entry.fstype, a.entry.mountpoint) <
             std::tie(b.entry.device, b.entry.fstype, b.entry.mountpoint);
    });
    std::vector<std::string> labels;
    labels.reserve(mounts_.size());
    std::unordered_set<std::string> current;
    for (const Mount& m : mounts_) {
      current.insert(m.entry.mountpoint);
      labels.push_back(metrics::labels({{"device", m.entry.device},
                                        {"fstype", m.entry.fstype},
                                        {"mountpoint", m.entry.mountpoint}}));
    }
    labels_ = metrics::LabelBlocks(std::move(labels));
    std::lock_guard lock(shared_->mu);
    std::erase_if(shared_->answers, [&](const auto& kv) { return !current.contains(kv.first); });
  }

  // Under the lock: abandons the live worker when its call has been in flight for the timeout.
  // The timeout runs from the first sample that saw the call, so it is never overstated.
  void check_live_worker(SteadyTime now) {
    if (!live_ || !live_->busy) return;
    if (live_->calls != seen_calls_) {
      seen_calls_ = live_->calls;
      seen_at_ = now;
      return;
    }
    if (now - seen_at_ < timeout_) return;
    shared_->stuck.insert(live_->current.mountpoint);
    live_->abandoned = true;
    ++shared_->abandoned;
    live_.reset();
    thread_.detach();
    seen_calls_ = 0;  // a worker's first call is number 1
  }

  // Under the lock: hands the due mounts to the worker. Remote mounts are due every 15 s, the
  // others every sample; what the worker has not taken yet of the last round is kept.
  void post_round(SteadyTime now) {
    std::vector<Job> jobs;
    std::unordered_set<std::string_view> queued;
    for (Mount& m : mounts_) {
      if (shared_->stuck.contains(m.entry.mountpoint)) continue;
      if (m.remote && m.posted_at && now - *m.posted_at < kRemoteInterval) continue;
      m.posted_at = now;
      if (!queued.insert(m.entry.mountpoint).second) continue;  // over-mounted: one statfs
      jobs.push_back(Job{m.entry.mountpoint, m.path});
    }
    if (shared_->posted != shared_->taken) {
      for (Job& old : shared_->jobs) {
        if (!queued.contains(old.mountpoint)) jobs.push_back(std::move(old));
      }
    }
    shared_->jobs = std::move(jobs);
    ++shared_->posted;
    shared_->wake.notify_one();
  }

  // Under the lock: each mount's state, in mounts_ order.
  std::vector<View> copy_answers() const {
    std::vector<View> views(mounts_.size());
    for (std::size_t i = 0; i < mounts_.size(); ++i) {
      const std::string& mp = mounts_[i].entry.mountpoint;
      views[i].stuck = shared_->stuck.contains(mp);
      if (auto it = shared_->answers.find(mp); it != shared_->answers.end()) {
        views[i].answer = it->second;
      }
    }
    return views;
  }

  void start_new_worker(std::vector<std::string>& errors) {
    auto state = std::make_shared<WorkerState>();
    try {
      thread_ = std::thread(run_worker, shared_, state);
    } catch (const std::system_error& e) {
      errors.push_back(std::string("statfs worker: cannot start a thread: ") + e.what());
      return;
    }
    std::lock_guard lock(shared_->mu);
    live_ = std::move(state);
  }

  void emit(const std::vector<View>& views, Snapshot& s) const {
    Families f;
    Failures failures;
    for (std::size_t i = 0; i < mounts_.size(); ++i) {
      const Mount& m = mounts_[i];
      const View& v = views[i];
      if (!v.stuck && !v.answer) continue;  // not answered yet
      FilesystemReading r;
      r.mountpoint = m.entry.mountpoint;
      r.device = m.entry.device;
      r.fstype = m.entry.fstype;
      r.readonly = m.entry.readonly;
      labels_.add(f.readonly, i, std::uint64_t{m.entry.readonly});
      if (v.stuck) {
        r.error = "statfs " + printable(m.path) + ": no answer for " + describe_timeout(timeout_);
        s.errors.push_back(*r.error);  // each hung mount on its own line: they are rare
      } else if (!v.answer->stats) {
        r.error = "statfs " + printable(m.path) + ": " + v.answer->error;
        failures.note(v.answer->error, *r.error);
      } else {
        add_stats(f, i, *v.answer->stats, r);
      }
      labels_.add(f.device_error, i, std::uint64_t{r.error.has_value()});
      s.filesystems.push_back(std::move(r));
    }
    failures.report(s.errors);
    f.move_to(s.families);
  }

  // statfs failures with the same reason make one line of `errors`: as an unprivileged user
  // every kubelet pod volume fails with EACCES, and a node has hundreds.
  class Failures {
   public:
    void note(const std::string& reason, const std::string& line) {
      for (Group& g : groups_) {
        if (g.reason == reason) {
          ++g.count;
          return;
        }
      }
      groups_.push_back(Group{reason, line, 1});
    }
    void report(std::vector<std::string>& errors) const {
      for (const Group& g : groups_) {
        errors.push_back(g.count == 1 ? g.first
                                      : g.first + " (and " + std::to_string(g.count - 1) +
                                            " more mounts: " + g.reason + ")");
      }
    }

   private:
    struct Group {
      std::string reason, first;
      std::size_t count;
    };
    std::vector<Group> groups_;
  };

  // The series of mounts_[i].
  void add_stats(Families& f, std::size_t i, const FsStats& st, FilesystemReading& r) const {
    r.size_bytes = bytes(st.blocks, st.bsize);
    r.free_bytes = bytes(st.bfree, st.bsize);
    r.avail_bytes = bytes(st.bavail, st.bsize);
    r.files = st.files;
    r.files_free = st.ffree;
    labels_.add(f.size, i, *r.size_bytes);
    labels_.add(f.free, i, *r.free_bytes);
    labels_.add(f.avail, i, *r.avail_bytes);
    labels_.add(f.files, i, *r.files);
    labels_.add(f.files_free, i, *r.files_free);
  }

  KeptFile mountinfo_;
  const Clock& clock_;
  std::chrono::milliseconds timeout_;
  std::string rootfs_;  // without a trailing '/'
  CachedMatcher mount_points_, fs_types_;
  metrics::LabelBlocks labels_;  // device, fstype, mountpoint: one block per mounts_ entry
  std::string text_;             // the mountinfo mounts_ was built from
  std::string skip_reason_;      // about its skipped lines, or ""
  std::vector<Mount> mounts_;

  std::shared_ptr<Shared> shared_;
  std::thread thread_;                 // the live worker, while there is one
  std::shared_ptr<WorkerState> live_;  // its state (guarded by shared_->mu)
  std::uint64_t seen_calls_ = 0;       // its call count when seen_at_ was taken
  SteadyTime seen_at_{};
};

}  // namespace

std::string unescape_mount_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::string_view code = s.substr(i, 4);
    char c = s[i];
    const bool escape = code == "\\040" || code == "\\011" || code == "\\012" || code == "\\134";
    if (escape) {
      c = static_cast<char>((code[1] - '0') * 64 + (code[2] - '0') * 8 + (code[3] - '0'));
      i += 3;
    }
    out.push_back(c);
  }
  return out;
}

bool has_mount_option(std::string_view options, std::string_view option) {
  while (!options.empty()) {
    const std::size_t comma = options.find(',');
    if (options.substr(0, comma) == option) return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

Result<MountTable> parse_mountinfo(std::string_view text) {
  if (text.empty()) return bad("empty input");
  if (text.back() != '\n') return bad("truncated input (no trailing newline)");
  MountTable table;
  std::vector<MountEntry>& mounts = table.mounts;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::string_view line = next_line(text);
    ++line_no;
    std::string why;
    if (mounts.size() >= kMaxMounts) {
      why = "more than 4096 mounts";
    } else if (auto m = parse_mount_line(line)) {
      mounts.push_back(std::move(*m));
      continue;
    } else {
      why = m.error().detail;
    }
    if (table.skipped_lines++ == 0)
      table.first_skip = "line " + std::to_string(line_no) + ": " + why;
  }
  if (mounts.empty()) return bad("no mounts; " + table.first_skip);
  dedupe(mounts);
  return table;
}

Result<FsStats> statfs_path(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) {
    return Error{boost::system::error_code(errno, boost::system::system_category()), path};
  }
  FsStats out;
  out.blocks = st.f_blocks;
  out.bfree = st.f_bfree;
  out.bavail = st.f_bavail;
  out.bsize = st.f_bsize > 0 ? static_cast<std::uint64_t>(st.f_bsize) : 0;
  out.files = st.f_files;
  out.ffree = st.f_ffree;
  return out;
}

Result<std::unique_ptr<Source>> make_filesystem_source(const SourceOptions& o,
                                                       StatfsFunction statfs) {
  if (!o.fs.rootfs) {
    return Error{Errc::kUnavailable, "needs --rootfs (the host's / mounted read-only)"};
  }
  auto mount_points =
      compile_regex("filesystem mount points exclude", o.filesystem_mount_points_exclude);
  if (!mount_points) return mount_points.error();
  auto fs_types = compile_regex("filesystem fs types exclude", o.filesystem_fs_types_exclude);
  if (!fs_types) return fs_types.error();
  return std::make_unique<FilesystemSource>(o, std::move(*mount_points), std::move(*fs_types),
                                            std::move(statfs));
}

Result<std::unique_ptr<Source>> make_filesystem_source(const SourceOptions& o) {
  return make_filesystem_source(o, statfs_path);
}

}  // namespace nodeagent::nodeinfo
