#include "kiada/app.h"

#include "kiada/assets.h"

namespace nodeagent::kiada {
namespace {

namespace beast_http = boost::beast::http;

std::string client_ip(const http::Request& request) {
  if (request.remote.is_unix()) return "unix";
  return request.remote.ip->to_string();
}

http::Response no_store(http::Response r) {
  return std::move(r).with_header("Cache-Control", "no-store");
}

}  // namespace

App::App(AppDeps deps) : deps_(std::move(deps)) {}

http::Response App::page(const http::Request& request, Page kind) const {
  PageInput in;
  in.pod = deps_.pod;
  in.client_ip = client_ip(request);
  in.agent_source = deps_.agent_source;
  in.status_message = deps_.status ? deps_.status->get() : std::string();
  return http::Response::later(
      [this, in = std::move(in), kind](http::Response::Respond respond) mutable {
        auto render = [in = std::move(in), kind,
                       respond = std::move(respond)](client::Result<std::string> line) mutable {
          in.node_info = std::move(line);
          switch (kind) {
            case Page::kHtml:
              respond(no_store(http::Response::text(
                  200, render_html(in, find_asset("index.html")->body), http::kTextHtml)));
              break;
            case Page::kText:
              respond(no_store(http::Response::text(200, render_text(in))));
              break;
            case Page::kNodeInfo:
              respond(no_store(http::Response::text(in.node_info ? 200 : 502,
                                                    node_info_text(in.node_info) + "\n")));
              break;
          }
        };
        if (deps_.node_info) {
          deps_.node_info(std::move(render));
        } else {
          render(client::Error{client::ErrorCode::kNoAgentConfigured, "no node agent client", 0});
        }
      });
}

http::Response App::handle(const http::Request& request) const {
  if (request.method != beast_http::verb::get && request.method != beast_http::verb::head) {
    return http::Response::static_text(405, "method not allowed\n")
        .with_header("Allow", "GET, HEAD");
  }
  std::string_view path = request.target.substr(0, request.target.find('?'));
  if (path == "/") {
    if (wants_html(request.accept)) {
      return no_store(
          http::Response::static_text(302, "see /html\n").with_header("Location", "/html"));
    }
    return page(request, Page::kText);
  }
  if (path == "/text") return page(request, Page::kText);
  if (path == "/html") return page(request, Page::kHtml);
  if (path == "/node-info") return page(request, Page::kNodeInfo);
  if (path == "/healthz/ready") return http::Response::static_text(200, "OK\n");
  if (path == "/events") {
    if (!deps_.events) return http::Response::static_text(503, "no event stream\n");
    return no_store(http::Response::event_stream(deps_.events));
  }
  if (path.starts_with("/assets/")) {
    const Asset* asset = find_asset(path.substr(8));
    if (asset != nullptr && asset->name != "index.html") {
      return http::Response::static_text(200, asset->body, asset->content_type)
          .with_header("Cache-Control", "no-cache");
    }
  }
  return http::Response::static_text(404, "not found\n");
}

}  // namespace nodeagent::kiada
