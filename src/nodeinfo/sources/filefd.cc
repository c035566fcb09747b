// /proc/sys/fs/file-nr: node_filefd_allocated and node_filefd_maximum. The file is not
// namespaced, so <procfs>/sys/fs/file-nr is the host's also from a pod.
#include "nodeinfo/sources/filefd.h"

#include "nodeinfo/source.h"
#include "nodeinfo/tokens.h"

namespace nodeagent::nodeinfo {

Result<FileNr> parse_file_nr(std::string_view text) {
  if (text.empty()) return malformed("empty input");
  if (text.back() != '\n') return malformed("truncated input (no trailing newline)");
  std::string_view rest = text;
  std::string_view line = next_line(rest);
  if (!rest.empty()) return malformed("expected one line");
  FileNr out;
  for (auto [member, what] :
       {std::pair{&FileNr::allocated, "allocated"}, std::pair{&FileNr::unused, "unused"},
        std::pair{&FileNr::maximum, "maximum"}}) {
    const std::string_view field = next_field(line);
    if (field.empty()) return malformed(std::string("missing ") + what);
    if (!to_u64(field, out.*member))
      return malformed(std::string("bad ") + what + " " + quoted(field));
  }
  if (!only_blanks(line)) return malformed("unexpected text after maximum");
  return out;
}

namespace {

class FilefdSource final : public Source {
 public:
  explicit FilefdSource(const SourceOptions& o) : file_(o.fs.procfs, "sys/fs/file-nr") {}

  void sample(SampleContext& ctx) override {
    Snapshot& s = ctx.snap;
    if (!file_.read(ctx.buf, s.errors)) return;
    auto nr = parse_file_nr(ctx.buf);
    if (!nr) return s.errors.push_back(file_.reason(nr.error().message()));
    s.families.gauge("node_filefd_allocated", "File handles allocated by the kernel (file-nr).",
                     std::optional(nr->allocated));
    s.families.gauge("node_filefd_maximum", "Most file handles the kernel allocates (file-max).",
                     std::optional(nr->maximum));
  }

 private:
  KeptFile file_;
};

}  // namespace

Result<std::unique_ptr<Source>> make_filefd_source(const SourceOptions& o) {
  return std::make_unique<FilefdSource>(o);
}

}  // namespace nodeagent::nodeinfo
