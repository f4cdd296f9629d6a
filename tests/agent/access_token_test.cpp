// Proves: the agent serves runs only to the holder of its token. Without it the REST API, a
// series, /metrics and the WebSocket answer 401 with a JSON error, and the page answers with
// the sign-in screen; the bearer header, ?token= (which sets an HttpOnly SameSite=Strict
// cookie named by the port) and that cookie are each let in. /healthz and the page's code stay
// open and tell nothing about runs. An agent with no token given makes a fresh random one each
// start and prints it in its URL; --auth=none works on loopback only (with a warning), and a
// token that cannot travel in a URL is refused at start.
#include <sys/wait.h>

#include <regex>

#include "serve/access_token.hpp"
#include "agent/agent_harness.hpp"
#include "support/agent_token.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

class AccessTokenTest : public ::testing::Test {
protected:
    /// GET target with exactly these headers (no token unless given).
    HttpResponse get_with(const std::string& target, const Headers& headers = {}) const {
        return http_request_with(h_.port(), "GET", target, headers, 5s);
    }
    /// A WebSocket upgrade of /ws with these extra header lines; the status line's code.
    int upgrade(const std::string& extra) const {
        return raw_http_exchange(h_.port(),
                                 "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(h_.port()) +
                                     "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                                     extra + "\r\n",
                                 3s)
            .status;
    }
    std::string cookie_name() const { return "trainscope-token-" + std::to_string(h_.port()); }

    /// A run with points, so that a leak would have something to show.
    std::string start_run() {
        ChildProcess& producer = h_.start_producer({"--steps", "50", "--name", "secret-run-name"});
        std::string id = AgentHarness::session_of(producer);
        EXPECT_TRUE(h_.wait_status(id, "finished"));
        return id;
    }

    AgentHarness h_;
};

TEST_F(AccessTokenTest, WithoutTheTokenRunsSeriesMetricsAndTheWebSocketAre401) {
    ASSERT_TRUE(h_.start_agent());
    std::string id = start_run();
    for (const std::string& target : std::vector<std::string>{"/api/runs", "/api/runs/" + id,
                                      "/api/runs/" + id + "/metrics/loss", "/api/plugins", "/metrics",
                                      "/api/runs?token=wrong-token"}) {
        HttpResponse r = get_with(target);
        EXPECT_EQ(r.status, 401) << target;
        EXPECT_TRUE(is_error_json(r.body)) << target << ": " << r.body;
        EXPECT_NE(r.body.find("--print-url"), std::string::npos) << "the error says how to get in: " << r.body;
        EXPECT_EQ(r.www_authenticate, "Bearer realm=\"trainscope\"") << target;
        EXPECT_EQ(r.body.find("secret-run-name"), std::string::npos);
    }
    EXPECT_EQ(get_with("/api/runs", {{"Authorization", "Bearer " + test_token() + "x"}}).status, 401);
    EXPECT_EQ(get_with("/api/runs", {{"Authorization", "Basic " + test_token()}}).status, 401);
    EXPECT_EQ(get_with("/api/runs", {{"Cookie", cookie_name() + "=nope"}}).status, 401);
    // Another agent's cookie on this host (browsers keep one jar per host, not per port).
    EXPECT_EQ(get_with("/api/runs", {{"Cookie", "trainscope-token-1=" + test_token()}}).status, 401);
    EXPECT_EQ(upgrade(""), 401);

    HttpResponse health = get_with("/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.body.find("secret-run-name"), std::string::npos) << health.body;
    EXPECT_EQ(health.body.find(id), std::string::npos) << health.body;
    EXPECT_EQ(get_with("/static/css/dashboard.css").status, 200) << "the page's own code is open";
}

TEST_F(AccessTokenTest, BearerHeaderQueryTokenAndItsCookieAreEachLetIn) {
    ASSERT_TRUE(h_.start_agent());
    std::string id = start_run();
    HttpResponse bearer = get_with("/api/runs", {{"Authorization", "Bearer " + test_token()}});
    EXPECT_EQ(bearer.status, 200);
    EXPECT_NE(bearer.body.find(id), std::string::npos);
    EXPECT_EQ(get_with("/api/runs", {{"Authorization", "bearer  " + test_token()}}).status, 200)
        << "the scheme is case-insensitive";
    EXPECT_EQ(get_with("/metrics", {{"Authorization", "Bearer " + test_token()}}).status, 200)
        << "Prometheus' authorization setting";

    HttpResponse page = get_with("/?token=" + test_token());
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.content_type.find("text/html"), std::string::npos);
    EXPECT_EQ(page.set_cookie.rfind(cookie_name() + "=" + test_token() + ";", 0), 0u) << page.set_cookie;
    EXPECT_NE(page.set_cookie.find("HttpOnly"), std::string::npos) << page.set_cookie;
    EXPECT_NE(page.set_cookie.find("SameSite=Strict"), std::string::npos) << page.set_cookie;
    EXPECT_NE(page.set_cookie.find("path=/"), std::string::npos) << page.set_cookie;

    HttpResponse by_cookie = get_with("/api/runs/" + id, {{"Cookie", "other=1; " + cookie_name() + "=" + test_token()}});
    EXPECT_EQ(by_cookie.status, 200);
    EXPECT_TRUE(by_cookie.set_cookie.empty()) << "only ?token= sets the cookie";
    EXPECT_EQ(upgrade("Cookie: " + cookie_name() + "=" + test_token() + "\r\n"), 101);
    EXPECT_EQ(upgrade("Authorization: Bearer " + test_token() + "\r\n"), 101);
}

TEST_F(AccessTokenTest, ThePageWithoutTheTokenIsTheSignInScreen) {
    ASSERT_TRUE(h_.start_agent());
    start_run();
    for (const std::string& target : {std::string("/"), std::string("/?token=wrong")}) {
        HttpResponse page = get_with(target);
        EXPECT_EQ(page.status, 401) << target;
        EXPECT_NE(page.content_type.find("text/html"), std::string::npos) << target;
        EXPECT_NE(page.body.find("--print-url"), std::string::npos) << "says how to get the URL";
        EXPECT_EQ(page.body.find("secret-run-name"), std::string::npos);
        EXPECT_TRUE(page.set_cookie.empty());
    }
}

TEST_F(AccessTokenTest, WithNoTokenGivenEachStartMakesANewOneAndPrintsIt) {
    const std::regex url("http://127\\.0\\.0\\.1:[0-9]+/\\?token=([0-9a-f]{48})");
    std::smatch m;
    ASSERT_TRUE(h_.start_agent({}, {{"TRAINSCOPE_TOKEN", ""}}));
    ASSERT_TRUE(std::regex_match(h_.url(), m, url)) << h_.url();
    const std::string first = m[1];
    EXPECT_EQ(get_with("/api/runs", {{"Authorization", "Bearer " + first}}).status, 200);
    EXPECT_EQ(get_with("/api/runs", bearer_header()).status, 401);

    ASSERT_TRUE(h_.start_agent({}, {{"TRAINSCOPE_TOKEN", ""}}));
    ASSERT_TRUE(std::regex_match(h_.url(), m, url)) << h_.url();
    EXPECT_NE(m[1], first);
    EXPECT_EQ(get_with("/api/runs", {{"Authorization", "Bearer " + first}}).status, 401);

    ASSERT_TRUE(h_.start_agent({"--token=given-on-the-command-line"}));
    EXPECT_EQ(h_.url(), "http://127.0.0.1:" + std::to_string(h_.port()) + "/?token=given-on-the-command-line")
        << "--token beats TRAINSCOPE_TOKEN";
    EXPECT_EQ(get_with("/api/runs", {{"Authorization", "Bearer given-on-the-command-line"}}).status, 200);
}

TEST_F(AccessTokenTest, AuthNoneServesEveryoneOnLoopbackWithAWarning) {
    ASSERT_TRUE(h_.start_agent({"--bind=127.0.0.1", "--auth=none"}));
    EXPECT_EQ(h_.url(), "http://127.0.0.1:" + std::to_string(h_.port()) + "/");
    EXPECT_EQ(get_with("/api/runs").status, 200);
    EXPECT_EQ(get_with("/").status, 200);
    EXPECT_TRUE(h_.agent().wait_stderr([](const std::string& l) { return l.find("--auth=none") != std::string::npos; }, 5s));
    EXPECT_EQ(h_.agent_log_lines_naming("--auth=none").size(), 1u);
}

/// Starts the agent with `args` and expects it to refuse: exit non-zero with a log line
/// naming `why`, never listening.
void expect_refused_start(const std::vector<std::string>& args, const std::string& why) {
    ShmNamespace ns;
    TempDir data("tstest-data");
    std::vector<std::string> full{"--port=0", "--namespace=" + ns.name(), "--data-dir=" + data.path()};
    full.insert(full.end(), args.begin(), args.end());
    ChildProcess agent(TS_AGENT_BIN, full, {{"TRAINSCOPE_TOKEN", ""}});
    auto status = agent.wait_exit(10s);
    ASSERT_TRUE(status) << "the agent started anyway";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0);
    agent.wait_stderr([](const std::string&) { return false; }, 2s);
    std::string log;
    for (const std::string& line : agent.stderr_lines()) log += line + "\n";
    EXPECT_NE(log.find(why), std::string::npos) << log;
    EXPECT_FALSE(agent.wait_stdout_prefix("trainscope-agent listening", 0ms));
}

TEST(AccessTokenStart, AuthNoneOnAnyOtherBindIsRefused) {
    expect_refused_start({"--bind=0.0.0.0", "--auth=none"}, "--auth=none is for loopback binds only");
}

TEST(AccessTokenStart, ATokenThatCannotTravelInAURLIsRefused) {
    expect_refused_start({"--token=has space"}, "cannot use that token");
    expect_refused_start({"--token=a&b"}, "cannot use that token");
    expect_refused_start({"--token", std::string(300, 'a')}, "longer than 256");
    expect_refused_start({"--auth=none", "--token=x"}, "contradict");
    expect_refused_start({"--auth=maybe"}, "--auth wants");
}

TEST_F(AccessTokenTest, ABindBeyondLoopbackSaysThatTheTokenGuardsItAndThereIsNoTls) {
    ASSERT_TRUE(h_.start_agent({"--bind=0.0.0.0"}));
    EXPECT_EQ(h_.url(), "http://127.0.0.1:" + std::to_string(h_.port()) + "/?token=" + test_token())
        << "trainers on this machine get a loopback URL";
    // stderr is read on its own thread: the warning may arrive after the "listening" line.
    EXPECT_TRUE(h_.agent().wait_stderr([](const std::string& l) { return l.find("no TLS") != std::string::npos; }, 5s));
    EXPECT_EQ(h_.agent_log_lines_naming("TLS").size(), 1u);
    EXPECT_EQ(get_with("/api/runs").status, 401);
    EXPECT_EQ(get_with("/api/runs", bearer_header()).status, 200);
}

TEST(AccessTokenUnit, GeneratedTokensAre192BitsOfHexAndDiffer) {
    std::string a = agent::generate_token(), b = agent::generate_token();
    EXPECT_EQ(a.size(), 48u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
    EXPECT_NE(a, b);
    EXPECT_FALSE(agent::token_problem(a));
    EXPECT_TRUE(agent::token_problem(""));
    EXPECT_TRUE(agent::token_problem("a/b"));
}

}  // namespace
}  // namespace trainscope::test
