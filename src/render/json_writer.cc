#include "render/json_writer.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>
#include <iterator>

namespace nodeagent::render {

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!open_.empty()) {
    if (open_.back().has_elements) out_.push_back(',');
    open_.back().has_elements = true;
  }
}

JsonWriter& JsonWriter::key(std::string_view k) {
  assert(!after_key_);
  separate();
  out_.push_back('"');
  out_.append(k);
  out_.append("\":");
  after_key_ = true;
  return *this;
}

void JsonWriter::open(char c) {
  separate();
  out_.push_back(c);
  open_.push_back(Open{c == '{' ? '}' : ']', false});
}

void JsonWriter::close(char c) {
  assert(!open_.empty() && !after_key_ && open_.back().close == c);
  open_.pop_back();
  out_.push_back(c);
}

void JsonWriter::null() {
  separate();
  out_.append("null");
}

void JsonWriter::value(bool b) {
  separate();
  out_.append(b ? "true" : "false");
}

void JsonWriter::value(double v) {
  if (!std::isfinite(v)) return null();
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
}

void JsonWriter::value(std::uint64_t v) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
}

void JsonWriter::value(std::int64_t v) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
}

void JsonWriter::value(std::string_view s) {
  separate();
  append_json_string(out_, s);
}

}  // namespace nodeagent::render
