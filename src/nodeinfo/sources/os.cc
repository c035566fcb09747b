// The host's distribution: <rootfs>/etc/os-release, or <rootfs>/usr/lib/os-release when that is
// missing (os-release(5)), re-read once a minute. /etc/os-release is usually the relative link
// ../usr/lib/os-release, which HostRoot follows since it stays below the root; an absolute link
// (/usr/lib/os-release) is refused as leading outside the root, and then the second file is read.
#include "nodeinfo/sources/os.h"

#include <charconv>
#include <cmath>

#include "nodeinfo/source.h"
#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_key(std::string_view k) {
  if (k.empty() || is_digit(k.front())) return false;
  for (char c : k) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Inside double quotes a backslash escapes only these; before anything else it is literal.
bool escapable_in_double_quotes(char c) { return c == '$' || c == '`' || c == '"' || c == '\\'; }

// Appends the double-quoted part starting after the opening quote at v[i]; returns the index
// after the closing quote, or npos when there is none.
std::size_t take_double_quoted(std::string_view v, std::size_t i, std::string& out) {
  for (++i; i < v.size(); ++i) {
    if (v[i] == '"') return i + 1;
    if (v[i] == '\\' && i + 1 < v.size() && escapable_in_double_quotes(v[i + 1])) ++i;
    out.push_back(v[i]);
  }
  return std::string_view::npos;
}

// The value after '=': quoted and unquoted parts up to the first unquoted blank, which may only
// be followed by blanks or a comment.
Result<std::string> parse_value(std::string_view v) {
  std::string out;
  std::size_t i = 0;
  while (i < v.size() && !is_blank(v[i])) {
    if (v[i] == '\'') {
      const std::size_t end = v.find('\'', i + 1);
      if (end == std::string_view::npos) return malformed("unterminated single quote");
      out.append(v.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (v[i] == '"') {
      i = take_double_quoted(v, i, out);
      if (i == std::string_view::npos) return malformed("unterminated double quote");
    } else if (v[i] == '\\' && i + 1 < v.size()) {
      out.push_back(v[i + 1]);
      i += 2;
    } else {
      out.push_back(v[i++]);
    }
  }
  std::string_view rest = v.substr(i);
  const std::string_view next = next_field(rest);
  if (!next.empty() && next.front() != '#')
    return malformed("text after the value: " + quoted(next));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

constexpr std::chrono::seconds kRereadInterval{60};

// What the families need, worked out once per read.
struct OsFacts {
  metrics::Text info_labels;
  metrics::Text version_labels;
  std::optional<double> version;  // empty, or 0: no node_os_version
  std::string pretty_name;
};

OsFacts facts_of(const OsRelease& r) {
  OsFacts f;
  f.info_labels = metrics::labels({{"build_id", r.get("BUILD_ID")},
                                   {"id", r.get("ID")},
                                   {"id_like", r.get("ID_LIKE")},
                                   {"image_id", r.get("IMAGE_ID")},
                                   {"image_version", r.get("IMAGE_VERSION")},
                                   {"name", r.get("NAME")},
                                   {"pretty_name", r.get("PRETTY_NAME")},
                                   {"variant", r.get("VARIANT")},
                                   {"variant_id", r.get("VARIANT_ID")},
                                   {"version", r.get("VERSION")},
                                   {"version_codename", r.get("VERSION_CODENAME")},
                                   {"version_id", r.get("VERSION_ID")}});
  f.version_labels = metrics::labels(
      {{"id", r.get("ID")}, {"id_like", r.get("ID_LIKE")}, {"name", r.get("NAME")}});
  f.version = os_version_number(r.get("VERSION_ID"));
  f.pretty_name = std::string(r.get("PRETTY_NAME"));
  return f;
}

struct OsReleaseFile {
  std::string_view relative;  // which of the two was read
  std::string text;
};

// /etc's file, or /usr/lib's when /etc has none (or links out of the root).
Result<OsReleaseFile> read_os_release(const HostRoot& root) {
  constexpr std::string_view kEtc = "etc/os-release", kUsrLib = "usr/lib/os-release";
  auto text = root.read_file(kEtc);
  if (text) return OsReleaseFile{kEtc, std::move(*text)};
  const auto& code = text.error().code;
  const bool missing = code == boost::system::errc::no_such_file_or_directory;
  if (!missing && code != HostFsError::kOutsideRoot) return text.error();
  auto other = root.read_file(kUsrLib);
  if (other) return OsReleaseFile{kUsrLib, std::move(*other)};
  return missing ? other.error() : text.error();
}

class OsSource final : public Source {
 public:
  explicit OsSource(const SourceOptions& o) : root_(*o.fs.rootfs), clock_(o.clock) {}

  void sample(SampleContext& ctx) override {
    const auto now = clock_.steady_now();
    if (!read_at_ || now - *read_at_ >= kRereadInterval) {
      read_at_ = now;
      reload();
    }
    Snapshot& s = ctx.snap;
    if (!facts_) return s.errors.push_back(error_);
    s.os_pretty_name = facts_->pretty_name;
    s.families
        .add("node_os_info", "The host's os-release fields as labels; always 1.",
             metrics::Type::kGauge)
        .add(facts_->info_labels, std::uint64_t{1});
    if (facts_->version && *facts_->version != 0) {
      s.families
          .add("node_os_version", "The leading number of the host's os-release VERSION_ID.",
               metrics::Type::kGauge)
          .add(facts_->version_labels, *facts_->version);
    }
  }

 private:
  void reload() {
    facts_.reset();
    auto file = read_os_release(root_);
    if (!file) {
      error_ = describe_path_error(file.error());
      return;
    }
    auto parsed = parse_os_release(file->text);
    if (!parsed) {
      error_ = root_.reason(file->relative, parsed.error().message());
      return;
    }
    facts_ = facts_of(*parsed);
  }

  const HostRoot& root_;
  const Clock& clock_;
  std::optional<std::chrono::steady_clock::time_point> read_at_;
  std::optional<OsFacts> facts_;  // empty: error_ says why
  std::string error_;
};

}  // namespace

std::string_view OsRelease::get(std::string_view key) const {
  auto it = values.find(key);
  return it == values.end() ? std::string_view() : std::string_view(it->second);
}

Result<OsRelease> parse_os_release(std::string_view text) {
  if (text.size() > kMaxOsReleaseSize) return malformed("larger than 64 KiB");
  OsRelease out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::string_view line = trim(next_line(text));
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return line_error(line_no, "expected KEY=value");
    const std::string_view key = line.substr(0, eq);
    if (!is_key(key)) return line_error(line_no, "bad key " + quoted(key));
    auto value = parse_value(line.substr(eq + 1));
    if (!value) return line_error(line_no, value.error().detail);
    out.values.insert_or_assign(std::string(key), std::move(*value));
  }
  return out;
}

std::optional<double> os_version_number(std::string_view v) {
  std::size_t end = 0;
  while (end < v.size() && is_digit(v[end])) ++end;
  if (end == 0) return std::nullopt;
  if (end + 1 < v.size() && v[end] == '.' && is_digit(v[end + 1])) {
    ++end;
    while (end < v.size() && is_digit(v[end])) ++end;
  }
  double out = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + end, out);
  if (ec != std::errc() || ptr != v.data() + end || !std::isfinite(out)) return std::nullopt;
  return out;
}

Result<std::unique_ptr<Source>> make_os_source(const SourceOptions& o) {
  if (!o.fs.rootfs) {
    return Error{Errc::kUnavailable, "needs --rootfs (the host's / mounted read-only)"};
  }
  return std::make_unique<OsSource>(o);
}

}  // namespace nodeagent::nodeinfo
