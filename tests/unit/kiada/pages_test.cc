#include "kiada/pages.h"

#include <gtest/gtest.h>

#include "kiada/assets.h"

namespace nodeagent::kiada {
namespace {

PageInput sample() {
  PageInput in;
  in.pod = {"kiada-68fbb5fcb9-rp7hc", "kind-worker2", "kiada-68fbb5fcb9-rp7hc", "10.244.2.7",
            "172.18.0.3"};
  in.client_ip = "10.244.2.1";
  in.node_info =
      "kind-worker2 uptime: 6h17m48s, load average: 0.87, 1.29, 1.61, active/total threads: "
      "5/4283";
  in.agent_source = "NODE_AGENT_URL=http://$(NODE_IP):11559 -> http://172.18.0.3:11559";
  in.status_message = "all systems go";
  return in;
}

TEST(RenderText, HasTheBooksThreeLines) {
  std::string page = render_text(sample());
  EXPECT_NE(page.find("Request processed by Kiada 0.9 running in pod "
                      "\"kiada-68fbb5fcb9-rp7hc\" on node \"kind-worker2\".\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("Pod hostname: kiada-68fbb5fcb9-rp7hc; Pod IP: 10.244.2.7; Node IP: "
                      "172.18.0.3; Client IP: 10.244.2.1\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("\nNode info: kind-worker2 uptime: 6h17m48s, load average: 0.87, 1.29, "
                      "1.61, active/total threads: 5/4283\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("Status message: all systems go\n"), std::string::npos) << page;
}

TEST(RenderText, ErrorsAndEmptyStatus) {
  PageInput in = sample();
  in.node_info = client::Error{client::ErrorCode::kConnectionRefused, "172.18.0.3:11559", 0};
  in.status_message.clear();
  std::string page = render_text(in);
  EXPECT_NE(page.find("\nNode info: ERROR: connection refused: 172.18.0.3:11559\n"),
            std::string::npos);
  EXPECT_NE(page.find("Status message: (none)\n"), std::string::npos);
}

TEST(RenderHtml, FillsEveryPlaceholderOfTheEmbeddedPageAndEscapes) {
  const Asset* page = find_asset("index.html");
  ASSERT_NE(page, nullptr);
  PageInput in = sample();
  in.status_message = "<script>alert('x')</script> & \"more\"";
  std::string html = render_html(in, page->body);
  EXPECT_EQ(html.find("{{"), std::string::npos) << "unfilled placeholder";
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"),
            std::string::npos);
  EXPECT_NE(html.find("on node <strong>&quot;kind-worker2&quot;</strong>"), std::string::npos);
  EXPECT_NE(html.find("class=\"ok\">Node info: kind-worker2 uptime: 6h17m48s"), std::string::npos);
  EXPECT_NE(html.find("<dd id=\"client-ip\">10.244.2.1</dd>"), std::string::npos);
  EXPECT_NE(html.find("$(NODE_IP)"), std::string::npos);

  in.node_info = client::Error{client::ErrorCode::kTimeout, {}, 0};
  EXPECT_NE(render_html(in, page->body).find("class=\"error\">Node info: ERROR: timeout"),
            std::string::npos);
}

TEST(RenderHtml, LeavesUnknownAndUnterminatedPlaceholders) {
  EXPECT_EQ(render_html(sample(), "a{{nope}}b{{node_name}}c{{node_"),
            "a{{nope}}bkind-worker2c{{node_");
}

TEST(WantsHtml, BrowsersButNotCurl) {
  const std::pair<std::string_view, bool> cases[] = {
      {"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", true},
      {"application/xhtml+xml", true},
      {"TEXT/HTML", true},
      {"*/*", false},  // curl
      {"", false},
      {"text/plain", false},
      {"text/plain, text/html", false},  // equal q: plain text, whatever the order
      {"text/html, text/plain", false},
      {"text/html, */*;q=0.5", true},
      {"text/html;q=0.5, */*", false},  // */* ranks text/plain higher
      {"text/html;q=0.5, text/plain", false},
      {"text/plain;q=0.1, text/html", true},
      {"text/html;q=0", false},
      {"application/json", false},
  };
  for (const auto& [accept, want] : cases) EXPECT_EQ(wants_html(accept), want) << accept;
}

TEST(Assets, AreEmbeddedWithContentTypes) {
  ASSERT_NE(find_asset("kiada.js"), nullptr);
  EXPECT_EQ(find_asset("kiada.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(find_asset("kiada.js")->body.find("EventSource(\"/events\")"), std::string::npos);
  EXPECT_NE(find_asset("kiada.js")->body.find("dataset.points"), std::string::npos);
  ASSERT_NE(find_asset("kiada.css"), nullptr);
  EXPECT_EQ(find_asset("kiada.css")->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(find_asset("missing.js"), nullptr);
  for (const Asset& a : assets()) {
    // Nothing fetched from elsewhere: the page works without internet access.
    EXPECT_EQ(a.body.find("http://"), std::string::npos) << a.name;
    EXPECT_EQ(a.body.find("https://"), std::string::npos) << a.name;
  }
}

TEST(RenderText, AgentControlCharactersCannotForgeALine) {
  PageInput in = sample();
  in.node_info = std::string("n1 up\r\nNode info: forged\x1b]0;t\x07") + '\0';
  std::string page = render_text(in);
  EXPECT_NE(
      page.find("\nNode info: n1 up\\u000d\\u000aNode info: forged\\u001b]0;t\\u0007\\u0000\n"),
      std::string::npos)
      << page;
  EXPECT_EQ(page.find_first_of(std::string("\r\x1b\x07") + '\0'), std::string::npos);
  // The same goes for error texts, which may quote the agent (client::printable()).
  in.node_info = client::Error{client::ErrorCode::kBadStatus, "GET /: a\rb\x1b", 503};
  EXPECT_NE(render_text(in).find("\nNode info: ERROR: bad status 503: GET /: a\\u000db\\u001b\n"),
            std::string::npos);
}

}  // namespace
}  // namespace nodeagent::kiada
