#pragma once
// A streaming JSON writer that places the commas itself: callers say what comes next (a key, a
// value, an object or array opening or closing) and never write punctuation by hand.
//   w.begin_object(); w.key("load").begin_object(); w.key("1m").value(1.62); w.end_object();
// Numbers print as the shortest text that reads back to the same double (fmt), integers
// exactly; NaN and infinities, which JSON cannot hold, become null. Keys are the caller's ASCII
// literals; string values go through append_json_string (invalid UTF-8 becomes U+FFFD).
//
// Thread-safety: one writer per output string.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodeagent::render {

void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) { open_.reserve(8); }

  JsonWriter& key(std::string_view k);
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void null();
  void value(bool b);
  void value(double v);
  void value(std::uint64_t v);
  void value(std::int64_t v);
  void value(unsigned v) { value(static_cast<std::uint64_t>(v)); }
  void value(std::string_view s);
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(const char* s) { value(std::string_view(s)); }
  template <class T>
  void value(const std::optional<T>& v) {
    if (v) {
      value(*v);
    } else {
      null();
    }
  }

 private:
  void separate();  // a comma before every element but the first, none after a key
  void open(char c);
  void close(char c);

  std::string& out_;
  struct Open {
    char close;         // '}' or ']'
    bool has_elements;  // a comma goes before the next one
  };
  std::vector<Open> open_;
  bool after_key_ = false;
};

}  // namespace nodeagent::render
