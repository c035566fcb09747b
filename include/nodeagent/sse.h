#pragma once
// Incremental Server-Sent Events parser (the text/event-stream format of the HTML standard):
// feed it bytes as they arrive, in chunks of any size, and it calls back once per complete event.
// A broken stream (an event larger than the limit) is a Result error with ErrorCode::kProtocol.
// Thread-safety: an SseParser is a plain value; use one per stream and thread.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "nodeagent/error.h"

namespace nodeagent::client {

struct SseEvent {
  std::string type = "message";  // the `event:` field, "message" when absent
  std::string data;              // `data:` lines joined with '\n'
  std::string id;                // last `id:` seen on the stream (it persists across events)
  std::optional<long> retry_ms;  // `retry:` of this event, if any
};

class SseParser {
 public:
  // What the callback answers: true to go on, false to stop (the rest of the chunk is ignored),
  // or an Error to stop with it (feed() then returns that error, e.g. a locality violation).
  using OnEvent = std::function<Result<bool>(const SseEvent&)>;

  // Upper bound for one event's buffered bytes; exceeding it breaks the stream (kProtocol, "event
  // larger than N bytes"), so a peer that never sends a blank line cannot exhaust memory.
  explicit SseParser(std::size_t max_event_bytes = 1024 * 1024)
      : max_event_bytes_(max_event_bytes) {}

  // True when the whole chunk was consumed, false when the callback stopped; an error is the
  // callback's error or the stream's breakage; once the stream broke, every later feed()
  // returns that error again.
  Result<bool> feed(std::string_view chunk, const OnEvent& on_event);
  // The stream's reconnection time: the last valid `retry:` field seen (even in a block without
  // data, which dispatches no event), or nullopt when none was sent.
  std::optional<long> retry_ms() const { return retry_ms_; }

 private:
  Result<bool> line(std::string_view text, const OnEvent& on_event);
  Error too_large() const;

  std::size_t max_event_bytes_;
  std::string partial_;   // bytes of an unterminated line
  bool skip_lf_ = false;  // previous chunk ended in '\r': a leading '\n' belongs to it
  bool first_line_ = true;
  SseEvent event_;
  bool has_data_ = false;
  std::string last_id_;
  std::optional<long> retry_ms_;
  Result<void> broken_;  // the stream's error, once it has one
};

}  // namespace nodeagent::client
