#pragma once
// The text a metric family keeps: its name, its help and each series' label block. A sample
// builds a few hundred families; if each copied its strings, allocation would be the largest
// part of a sample's cost. A Text is either a view of a string literal (never copied) or a
// shared immutable string made at run time, which a source keeps and hands to every sample
// (copying it is a reference count, not an allocation).
//
// Thread-safety: a Text is immutable; copies may be used and destroyed on any thread.

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace nodeagent::metrics {

class Text {
 public:
  Text() = default;
  // A string literal, viewed in place. (Any const char array binds here: pass only literals.)
  template <std::size_t N>
  Text(const char (&literal)[N]) noexcept  // NOLINT(google-explicit-constructor)
      : view_(literal, N - 1) {}
  // Text made at run time, kept in one shared string.
  Text(std::string s)  // NOLINT(google-explicit-constructor)
      : owned_(std::make_shared<const std::string>(std::move(s))), view_(*owned_) {}
  // Text that outlives every family holding it, e.g. a constexpr table's entry.
  static Text unowned(std::string_view s) noexcept {
    Text t;
    t.view_ = s;
    return t;
  }

  std::string_view view() const noexcept { return view_; }
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator std::string_view() const noexcept { return view_; }
  bool empty() const noexcept { return view_.empty(); }
  std::size_t size() const noexcept { return view_.size(); }

  friend bool operator==(const Text& a, std::string_view b) noexcept { return a.view_ == b; }

 private:
  std::shared_ptr<const std::string> owned_;
  std::string_view view_;
};

std::ostream& operator<<(std::ostream& out, const Text& t);  // for test failure messages

}  // namespace nodeagent::metrics
