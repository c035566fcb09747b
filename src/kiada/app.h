#pragma once
// Kiada's routes on top of nodeagent::http:
//   GET /               text for curl-like clients, 302 to /html for browsers
//   GET /text           the text page          GET /html     the page with the live chart
//   GET /events         SSE relay of the agent's stream (see relay.h)
//   GET /assets/<file>  embedded script and style sheet
//   GET /healthz/ready  200 once serving (Kiada is useful even when the agent is down)
//
// Thread-safety: handle() runs concurrently on the server's event-loop threads; everything it
// touches is either immutable after construction or internally synchronised.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "http/feed.h"
#include "http/request.h"
#include "http/response.h"
#include "kiada/pages.h"

namespace nodeagent::kiada {

// The status message shown on every page: INITIAL_STATUS_MESSAGE, then each line read on stdin.
class StatusMessage {
 public:
  explicit StatusMessage(std::string initial = {}) : message_(std::move(initial)) {}
  void set(std::string message) {
    std::lock_guard lock(mutex_);
    message_ = std::move(message);
  }
  std::string get() const {
    std::lock_guard lock(mutex_);
    return message_;
  }

 private:
  mutable std::mutex mutex_;
  std::string message_;
};

struct AppDeps {
  PodInfo pod;
  std::string agent_source;                // for the page, e.g. "NODE_AGENT_URL=http://..."
  std::function<std::string()> node_info;  // NodeInfoFetcher::line, bounded in time
  std::shared_ptr<http::Feed> events;      // fed by StreamRelay
  std::shared_ptr<StatusMessage> status;
};

class App {
 public:
  explicit App(AppDeps deps);
  http::Response handle(const http::Request& request) const;

 private:
  PageInput page_input(const http::Request& request) const;

  AppDeps deps_;
};

}  // namespace nodeagent::kiada
