// Proves: the agent serves only requests that name it (DNS rebinding: a foreign Host gets
// 421 and a JSON error), loopback names, this machine's host name and --public-host do get
// through; a WebSocket upgrade from a foreign page's Origin gets 403 while the agent's own
// origin, an --allow-origin one and no Origin at all (a tool) are upgraded; each refused
// value is logged once.
#include <unistd.h>

#include "agent/agent_harness.hpp"
#include "serve/request_gate.hpp"
#include "support/agent_token.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

class RequestGateTest : public ::testing::Test {
protected:
    /// A raw request for `target` with the given Host (and extra header lines).
    HttpResponse ask(const std::string& target, const std::string& host, const std::string& extra = "") {
        return raw_http_exchange(h_.port(), "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra +
                                                authorization() + "Connection: close\r\n\r\n",
                                 5s);
    }
    /// A WebSocket upgrade of /ws, with an Origin header line unless `origin` is empty.
    HttpResponse upgrade(const std::string& origin) {
        std::string headers =
            "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        if (!origin.empty()) headers += "Origin: " + origin + "\r\n";
        return raw_http_exchange(h_.port(), "GET /ws HTTP/1.1\r\nHost: " + own_host() +
                                                "\r\nConnection: Upgrade\r\n" + authorization() + headers + "\r\n",
                                 3s);
    }
    static std::string authorization() { return "Authorization: Bearer " + test_token() + "\r\n"; }
    std::string own_host() const { return "127.0.0.1:" + std::to_string(h_.port()); }

    AgentHarness h_;
};

TEST_F(RequestGateTest, ForeignHostIsRefusedWith421AndLoggedOnce) {
    ASSERT_TRUE(h_.start_agent());
    for (const char* host : {"evil.example", "evil.example:7070", "127.0.0.1.evil.example"}) {
        HttpResponse r = ask("/api/runs", host);
        EXPECT_EQ(r.status, 421) << host;
        EXPECT_TRUE(is_error_json(r.body)) << host << ": " << r.body;
    }
    EXPECT_EQ(ask("/", "evil.example").status, 421) << "the page too";
    EXPECT_EQ(ask("/api/runs", "evil.example").status, 421) << "again";
    // The log reaches the test through a pipe: wait for the line before counting.
    EXPECT_TRUE(h_.agent().wait_stderr(
        [](const std::string& line) { return line.find("Host: evil.example") != std::string::npos; }, 5s));
    EXPECT_EQ(h_.agent_log_lines_naming("Host: evil.example").size(), 1u) << "logged once per value";
}

TEST_F(RequestGateTest, LoopbackNamesAndThisMachinesNameAreServed) {
    ASSERT_TRUE(h_.start_agent());
    char name[256] = {};
    ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
    const std::string port = ":" + std::to_string(h_.port());
    for (const std::string& host : {own_host(), "localhost" + port, "LocalHost" + port, "[::1]" + port,
                                    "127.0.0.2" + port, "localhost." + port, std::string(name) + port})
        EXPECT_EQ(ask("/api/runs", host).status, 200) << host;
    EXPECT_EQ(raw_http_exchange(h_.port(), "GET /api/runs HTTP/1.0\r\n" + authorization() + "\r\n", 5s).status, 200)
        << "an HTTP/1.0 request without Host has nothing to rebind";
}

TEST_F(RequestGateTest, PublicHostIsServed) {
    ASSERT_TRUE(h_.start_agent({"--public-host=dash.example.org"}));
    EXPECT_EQ(ask("/api/runs", "dash.example.org").status, 200);
    EXPECT_EQ(ask("/api/runs", "DASH.example.org:443").status, 200);
    EXPECT_EQ(ask("/api/runs", "other.example.org").status, 421);
}

TEST_F(RequestGateTest, WebSocketFromAForeignOriginIsRefusedWith403) {
    ASSERT_TRUE(h_.start_agent());
    HttpResponse evil = upgrade("http://evil.example");
    EXPECT_EQ(evil.status, 403);
    EXPECT_TRUE(is_error_json(evil.body)) << evil.body;
    EXPECT_EQ(upgrade("http://evil.example").status, 403);
    EXPECT_EQ(h_.agent_log_lines_naming("Origin: http://evil.example").size(), 1u);
    EXPECT_EQ(upgrade("null").status, 403) << "a sandboxed page's opaque origin";
    EXPECT_EQ(upgrade("http://127.0.0.1:1").status, 403) << "another port is another origin";

    EXPECT_EQ(upgrade("http://" + own_host()).status, 101) << "the agent's own page";
    EXPECT_EQ(upgrade("").status, 101) << "no Origin: a tool, not a page";
    // A GET from a foreign page is not refused for its Origin: the browser keeps the answer
    // from the page (no CORS headers), and the Host check stops rebinding.
    EXPECT_EQ(ask("/api/runs", own_host(), "Origin: http://evil.example\r\n").status, 200);
    EXPECT_TRUE(h_.agent().running());
}

TEST_F(RequestGateTest, AllowedOriginIsUpgraded) {
    ASSERT_TRUE(h_.start_agent({"--allow-origin=https://dash.example.org/"}));
    EXPECT_EQ(upgrade("https://dash.example.org").status, 101);
    EXPECT_EQ(upgrade("http://dash.example.org").status, 403) << "the scheme is part of the origin";
}

TEST(RequestGateHostName, StripsPortBracketsCaseAndTheFinalDot) {
    using agent::RequestGate;
    EXPECT_EQ(RequestGate::host_name("LocalHost:7070"), "localhost");
    EXPECT_EQ(RequestGate::host_name("[::1]:7070"), "::1");
    EXPECT_EQ(RequestGate::host_name("example.org."), "example.org");
    EXPECT_EQ(RequestGate::host_name(" 10.0.0.5 "), "10.0.0.5");
    EXPECT_TRUE(RequestGate::is_loopback("127.8.9.10"));
    EXPECT_FALSE(RequestGate::is_loopback("128.0.0.1"));
    EXPECT_FALSE(RequestGate::is_loopback("localhost.evil.example"));
}

}  // namespace
}  // namespace trainscope::test
