#include "nodeagent/discovery.h"

#include <gtest/gtest.h>

#include <map>

namespace nodeagent::client {
namespace {

EnvLookup env_of(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct ExpandCase {
  std::string input;
  std::string want;
};

// The kubelet's expansion rules, case by case (same semantics as its expansion package tests).
TEST(ExpandVars, FollowsKubeletSemantics) {
  auto env = env_of({{"NODE_IP", "10.0.0.7"}, {"A", "a"}, {"EMPTY", ""}, {"NESTED", "$(A)"}});
  const ExpandCase cases[] = {
      {"http://$(NODE_IP):11559", "http://10.0.0.7:11559"},
      {"$(A)", "a"},
      {"__$(A)__", "__a__"},
      {"$(A)$(A)-$(NODE_IP)", "aa-10.0.0.7"},
      {"$(EMPTY)", ""},
      {"x$(EMPTY)y", "xy"},
      {"$(UNSET)", "$(UNSET)"},  // unset stays literally
      {"http://$(UNSET):1", "http://$(UNSET):1"},
      {"$$(A)", "$(A)"},     // escaped reference
      {"$$$(A)", "$a"},      // escaped '$' then a reference
      {"$$$$(A)", "$$(A)"},  // two escaped '$'
      {"$$", "$"},
      {"$$$", "$$"},  // trailing lone '$' is literal
      {"$", "$"},
      {"a$", "a$"},
      {"$A", "$A"},            // no parentheses: not a reference
      {"$(A", "$(A"},          // unterminated
      {"$(A$(A)", "$(A$(A)"},  // name "A$(A" is undefined -> kept literally
      {"$()", "$()"},          // empty name, undefined
      {"$(NESTED)", "$(A)"},   // values are not expanded again
      {"(A)", "(A)"},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(expand_vars(c.input, env), c.want) << c.input;
}

TEST(ParseUrl, AcceptsHttpWithHostPortAndPrefix) {
  auto ep = parse_url("http://10.0.0.7:11559");
  ASSERT_TRUE(ep) << ep.error().message();
  EXPECT_EQ(ep->transport, Transport::kTcp);
  EXPECT_EQ(ep->host, "10.0.0.7");
  EXPECT_EQ(ep->port, "11559");
  EXPECT_EQ(ep->prefix, "");
  EXPECT_EQ(ep->peer(), "10.0.0.7:11559");
  EXPECT_EQ(ep->host_header(), "10.0.0.7:11559");

  ep = parse_url("http://node-agent");  // the local Service's DNS name
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "node-agent");
  EXPECT_EQ(ep->port, "80");
  EXPECT_EQ(ep->host_header(), "node-agent");
  EXPECT_EQ(ep->url, "http://node-agent");

  ep = parse_url("HTTP://[::1]:8080/agent/");
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->peer(), "[::1]:8080");
  EXPECT_EQ(ep->prefix, "/agent");
  EXPECT_EQ(ep->url, "http://[::1]:8080/agent");
}

TEST(ParseUrl, AcceptsUnixSockets) {
  auto ep = parse_url("unix:///run/node-agent/agent.sock");
  ASSERT_TRUE(ep) << ep.error().message();
  EXPECT_EQ(ep->transport, Transport::kUnix);
  EXPECT_EQ(ep->socket_path, "/run/node-agent/agent.sock");
  EXPECT_EQ(ep->peer(), "/run/node-agent/agent.sock");
  EXPECT_EQ(ep->url, "unix:///run/node-agent/agent.sock");
}

TEST(ParseUrl, RejectsBadUrlsWithAReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty"},
      {"10.0.0.7:11559", "write e.g. http://10.0.0.7:11559"},
      {"node-agent", "absolute"},
      {"http://no space", "absolute URL"},
      {"http://a%20b", "not a DNS name"},
      {"https://node-agent", "unsupported scheme \"https\""},
      {"ftp://x", "unsupported scheme"},
      {"http://", "missing host"},
      {"http://:80", "missing host"},
      {"http://h:0", "bad port"},
      {"http://h:65536", "bad port"},
      {"http://h:8x", "bad port"},
      {"http://user@h", "user info"},
      {"http://h/?q=1", "query"},
      {"unix://relative.sock", "unix:///absolute"},
      {"unix:///", "absolute"},
      {"http://$(NODE_IP):11559", "unset variable?"},  // an unexpanded reference
  };
  for (const auto& [url, why] : cases) {
    auto ep = parse_url(url);
    ASSERT_FALSE(ep) << url;
    EXPECT_EQ(ep.error().code, ErrorCode::kInvalidUrl) << url;
    EXPECT_NE(ep.error().message().find(why), std::string::npos)
        << url << " -> " << ep.error().message();
  }
}

TEST(Discover, ExplicitUrlWins) {
  auto d =
      discover("http://127.0.0.1:1", env_of({{"NODE_AGENT_URL", "http://x"}, {"NODE_IP", "y"}}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->source, DiscoverySource::kExplicit);
  EXPECT_EQ(d->endpoint.peer(), "127.0.0.1:1");
  EXPECT_EQ(d->describe(), "--url http://127.0.0.1:1");
}

TEST(Discover, NodeAgentUrlIsExpandedFromTheEnvironment) {
  auto d =
      discover(std::nullopt,
               env_of({{"NODE_AGENT_URL", "http://$(NODE_IP):11559"}, {"NODE_IP", "172.18.0.2"}}));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->source, DiscoverySource::kNodeAgentUrl);
  EXPECT_EQ(d->raw, "http://$(NODE_IP):11559");
  EXPECT_EQ(d->endpoint.peer(), "172.18.0.2:11559");
  EXPECT_EQ(d->describe(), "NODE_AGENT_URL=http://$(NODE_IP):11559 -> http://172.18.0.2:11559");
}

TEST(Discover, EmptyExplicitAndEmptyNodeAgentUrlFallThrough) {
  auto d = discover("", env_of({{"NODE_AGENT_URL", ""}, {"NODE_IP", "10.1.2.3"}}));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->source, DiscoverySource::kNodeIp);
  EXPECT_EQ(d->endpoint.url, "http://10.1.2.3:11559");
  EXPECT_EQ(d->describe(), "NODE_IP=10.1.2.3 -> http://10.1.2.3:11559");
}

TEST(Discover, NodeIpMayBeIpv6) {
  auto d = discover(std::nullopt, env_of({{"NODE_IP", "fd00::7"}}));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->endpoint.peer(), "[fd00::7]:11559");
}

TEST(Discover, NothingConfiguredIsATypedError) {
  auto d = discover(std::nullopt, env_of({}));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kNoAgentConfigured);
  EXPECT_NE(d.error().message().find("NODE_AGENT_URL"), std::string::npos);
}

TEST(Discover, UnexpandableReferenceNamesTheSource) {
  auto d = discover(std::nullopt, env_of({{"NODE_AGENT_URL", "http://$(NODE_IP):11559"}}));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidUrl);
  EXPECT_NE(d.error().message().find("NODE_AGENT_URL"), std::string::npos) << d.error().message();
  EXPECT_NE(d.error().message().find("$(NODE_IP)"), std::string::npos) << d.error().message();
}

TEST(Discover, ProcessEnvReadsTheRealEnvironment) {
  ::setenv("NODEAGENT_TEST_VAR", "v", 1);
  EXPECT_EQ(process_env()("NODEAGENT_TEST_VAR"), "v");
  ::unsetenv("NODEAGENT_TEST_VAR");
  EXPECT_EQ(process_env()("NODEAGENT_TEST_VAR"), std::nullopt);
}

TEST(ErrorMessage, NamesTheCauseAndDetail) {
  EXPECT_EQ((Error{ErrorCode::kConnectionRefused, "127.0.0.1:11559", 0}).message(),
            "connection refused: 127.0.0.1:11559");
  EXPECT_EQ((Error{ErrorCode::kBadStatus, "GET /", 503}).message(), "bad status 503: GET /");
  EXPECT_EQ((Error{ErrorCode::kTimeout, "", 0}).message(), "timeout");
  for (int c = 1; c <= static_cast<int>(ErrorCode::kCancelled); ++c) {
    EXPECT_NE(to_string(static_cast<ErrorCode>(c)), "unknown error") << c;
  }
}

TEST(ErrorMessage, ValueOnAnErrorThrowsWithTheMessage) {
  Result<int> r = Error{ErrorCode::kTimeout, "x", 0};
  EXPECT_THROW(
      {
        try {
          (void)r.value();
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "timeout: x");
          throw;
        }
      },
      std::runtime_error);
}

}  // namespace
}  // namespace nodeagent::client
