#pragma once
// Kiada's routes on top of nodeagent::http:
//   GET /               text for curl-like clients, 302 to /html for browsers
//   GET /text           the text page          GET /html     the page with the live chart
//   GET /events         SSE relay of the agent's stream (see relay.h)
//   GET /assets/<file>  embedded script and style sheet
//   GET /node-info      the page's "Node info" text alone (200, or 502 with the error): the live
//                       page refreshes its card with it so card and live badge agree
//   GET /healthz/ready  200 once serving (Kiada is useful even when the agent is down)
//
// Pages that show the agent's line are deferred responses (http::Response::deferred): the event
// loop moves on while the agent is asked, and the page is rendered when the answer (or error)
// arrives, so every page answers within the agent timeout however slow the agent is.
//
// Thread-safety: handle() runs concurrently on the server's event-loop threads; everything it
// touches is either immutable after construction or internally synchronised. The App must
// outlive the node_info calls it started (stop the fetcher before destroying the App).

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
  std::string agent_source;  // for the page, e.g. "NODE_AGENT_URL=http://..."
  // NodeInfoFetcher::async_line: calls back once, from any thread, within the agent timeout.
  std::function<void(std::function<void(client::Result<std::string>)>)> node_info;
  std::shared_ptr<http::Feed> events;  // fed by StreamRelay
  std::shared_ptr<StatusMessage> status;
};

class App {
 public:
  explicit App(AppDeps deps);
  http::Response handle(const http::Request& request) const;

 private:
  enum class Page { kText, kHtml, kNodeInfo };
  // The page, answered (deferred) once the agent's line is in.
  http::Response page(const http::Request& request, Page kind) const;

  AppDeps deps_;
};

}  // namespace nodeagent::kiada
