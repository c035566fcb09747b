#pragma once
// Incremental Server-Sent Events parser (the text/event-stream format of the HTML standard):
// feed it bytes as they arrive, in chunks of any size, and it calls back once per complete event.
// Thread-safety: an SseParser is a plain value; use one per stream and thread.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace nodeagent::client {

struct SseEvent {
  std::string type = "message";  // the `event:` field, "message" when absent
  std::string data;              // `data:` lines joined with '\n'
  std::string id;                // last `id:` seen on the stream (it persists across events)
  std::optional<long> retry_ms;  // `retry:` of this event, if any
};

class SseParser {
 public:
  // Callback returns false to stop; feed() then returns false and ignores the rest of the chunk.
  using OnEvent = std::function<bool(const SseEvent&)>;

  // Upper bound for one event's buffered bytes; exceeding it is an error (feed returns false
  // and error() is set) so a peer that never sends a blank line cannot exhaust memory.
  explicit SseParser(std::size_t max_event_bytes = 1024 * 1024)
      : max_event_bytes_(max_event_bytes) {}

  bool feed(std::string_view chunk, const OnEvent& on_event);
  const std::string& error() const { return error_; }
  // The stream's reconnection time: the last valid `retry:` field seen (even in a block without
  // data, which dispatches no event), or nullopt when none was sent.
  std::optional<long> retry_ms() const { return retry_ms_; }

 private:
  bool line(std::string_view text, const OnEvent& on_event);

  std::size_t max_event_bytes_;
  std::string partial_;   // bytes of an unterminated line
  bool skip_lf_ = false;  // previous chunk ended in '\r': a leading '\n' belongs to it
  bool first_line_ = true;
  SseEvent event_;
  bool has_data_ = false;
  std::string last_id_;
  std::optional<long> retry_ms_;
  std::string error_;
};

}  // namespace nodeagent::client
