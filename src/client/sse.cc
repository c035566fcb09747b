#include "nodeagent/sse.h"

#include <charconv>

namespace nodeagent::client {

Error SseParser::too_large() const {
  return Error{ErrorCode::kProtocol,
               "event larger than " + std::to_string(max_event_bytes_) + " bytes"};
}

Result<bool> SseParser::feed(std::string_view chunk, const OnEvent& on_event) {
  if (!broken_) return broken_.error();
  std::size_t start = 0;
  if (skip_lf_ && !chunk.empty() && chunk.front() == '\n') start = 1;
  skip_lf_ = false;
  for (std::size_t i = start; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (c != '\n' && c != '\r') continue;
    std::string_view piece = chunk.substr(start, i - start);
    Result<bool> ok = true;
    if (partial_.empty()) {
      ok = line(piece, on_event);
    } else {
      partial_.append(piece);
      std::string whole = std::move(partial_);
      partial_.clear();
      ok = line(whole, on_event);
    }
    if (!ok || !*ok) return ok;
    if (c == '\r') {
      if (i + 1 < chunk.size()) {
        if (chunk[i + 1] == '\n') ++i;
      } else {
        skip_lf_ = true;
      }
    }
    start = i + 1;
  }
  partial_.append(chunk.substr(start));
  if (partial_.size() + event_.data.size() > max_event_bytes_) {
    broken_ = too_large();
    return broken_.error();
  }
  return true;
}

Result<bool> SseParser::line(std::string_view text, const OnEvent& on_event) {
  if (first_line_) {
    first_line_ = false;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // optional UTF-8 BOM
  }
  if (text.empty()) {  // blank line: dispatch
    Result<bool> keep_going = true;
    if (has_data_) {
      event_.id = last_id_;
      keep_going = on_event(event_);
    }
    event_ = SseEvent{};
    has_data_ = false;
    return keep_going;
  }
  if (text.front() == ':') return true;  // comment (keep-alive)
  std::string_view field = text;
  std::string_view value;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    field = text.substr(0, colon);
    value = text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data.append(value);
    has_data_ = true;
    if (event_.data.size() > max_event_bytes_) {
      broken_ = too_large();
      return broken_.error();
    }
  } else if (field == "event") {
    event_.type = value.empty() ? "message" : std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_ = std::string(value);
  } else if (field == "retry") {
    // ASCII digits only (the standard ignores anything else, a sign included).
    long ms = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc() && ptr == value.data() + value.size() && !value.empty() &&
        value.front() != '-') {
      event_.retry_ms = ms;
      retry_ms_ = ms;
    }
  }
  return true;
}

}  // namespace nodeagent::client
