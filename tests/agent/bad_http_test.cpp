// Proves: the agent answers bad HTTP input with a JSON {"error": ...} and a 4xx status,
// never a crash or a hang: unknown runs and metrics (404), malformed or out-of-range numbers
// and from > to (400), path tricks (dot segments raw and percent-encoded, an empty metric
// name, NUL), malformed percent-encoding (400), a 100 KB URL, methods no route takes (DELETE
// of a run is one it does), and /ws without an upgrade.
// Afterwards it still serves /healthz and /api/runs correctly.
#include "agent/agent_harness.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

class BadHttpTest : public AgentProcessTest {
protected:
    void SetUp() override {
        AgentProcessTest::SetUp();
        ChildProcess& trainer = h_.start_producer({"--name", "http", "--steps", "100"});
        id_ = AgentHarness::session_of(trainer);
        ASSERT_TRUE(h_.wait_status(id_, "finished"));
    }

    /// The series URL of the run's one metric with `query`.
    std::string series(const std::string& query) const {
        return "/api/runs/" + id_ + "/metrics/t0%2Fm0?" + query;
    }

    void expect_still_serving() {
        EXPECT_TRUE(h_.agent().running()) << "the agent died";
        EXPECT_EQ(h_.get("/healthz").status, 200);
        rapidjson::Document runs = h_.get_json("/api/runs");
        ASSERT_TRUE(runs.IsObject() && runs.HasMember("runs") && runs["runs"].IsArray());
        ASSERT_EQ(runs["runs"].Size(), 1u);
        EXPECT_EQ(string_member(runs["runs"][0], "session_id"), id_);
        EXPECT_EQ(h_.get(series("max_points=10")).status, 200);
    }

    std::string id_;
};

TEST_F(BadHttpTest, UnknownRunOrMetricIs404Json) {
    for (const std::string& target : std::vector<std::string>{
             "/api/runs/NO-SUCH-RUN", "/api/runs/NO-SUCH-RUN/metrics/loss",
             "/api/runs/" + id_ + "/metrics/no-such-metric", "/api/nothing", "/no/such/page"}) {
        HttpResponse r = h_.get(target);
        EXPECT_EQ(r.status, 404) << target;
        EXPECT_TRUE(is_error_json(r.body)) << target;
    }
    expect_still_serving();
}

TEST_F(BadHttpTest, BadNumbersAre400Json) {
    for (const std::string& query : std::vector<std::string>{
             "max_points=abc", "max_points=", "max_points=0", "max_points=-5",
             "max_points=1000000000000", "max_points=99999999999999999999999", "from=1e5", "to=--3",
             "from=0x10", "from=%201", "rank=-1", "rank=one", "from=10&to=5"}) {
        HttpResponse r = h_.get(series(query));
        if (query == "max_points=") {
            EXPECT_EQ(r.status, 200) << query << ": an empty value means the default";
            continue;
        }
        EXPECT_TRUE(is_json_error_response(r, 400, 400)) << query;
    }
    expect_still_serving();
}

TEST_F(BadHttpTest, PathTricksAre4xxJson) {
    for (const std::string& target : std::vector<std::string>{
             "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
             "/static/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/static/.hidden",
             "/api/runs/" + id_ + "/metrics/", "/api/runs/%2e%2e/metrics/x", "/api/runs/a%00b"}) {
        HttpResponse r = h_.get(target);
        EXPECT_TRUE(is_json_error_response(r)) << target;
        EXPECT_EQ(r.body.find("root:"), std::string::npos) << target << " leaked a file";
    }
    expect_still_serving();
}

TEST_F(BadHttpTest, MalformedPercentEncodingIs400Json) {
    for (const std::string& target :
         std::vector<std::string>{"/api/runs/%zz", "/static/%", "/api/runs/%4",
                                  series("max_points=%zz"), series("from=1%")}) {
        HttpResponse r = h_.get(target);
        EXPECT_TRUE(is_json_error_response(r, 400, 400)) << target;
    }
    expect_still_serving();
}

// Poco's HTTP server refuses a request line over 16 KiB itself, before any agent code runs,
// with a bare 400: the one error reply that is not JSON. What matters is that it is a 4xx
// and the agent is unaffected.
TEST_F(BadHttpTest, HundredKilobyteUrlIs400) {
    HttpResponse r = raw_http_exchange(h_.port(), "GET /api/runs/" + std::string(100 * 1024, 'a') +
                                                      " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 400) << r.error;
    expect_still_serving();
}

TEST_F(BadHttpTest, TenKilobyteUrlIs4xxJson) {
    HttpResponse r = raw_http_exchange(h_.port(), "GET /api/runs/" + std::string(10 * 1024, 'a') +
                                                      " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(is_json_error_response(r)) << r.error;
    expect_still_serving();
}

TEST_F(BadHttpTest, MethodsOtherThanGetAre4xxJson) {
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH"})
        for (const std::string& target :
             std::vector<std::string>{"/api/runs", "/api/runs/" + id_, "/healthz"}) {
            // DELETE /api/runs/{id} deletes the run (run_management_test.cpp).
            if (std::string(method) == "DELETE" && target == "/api/runs/" + id_) continue;
            HttpResponse r = http_request(h_.port(), method, target);
            EXPECT_TRUE(is_json_error_response(r)) << method << " " << target;
        }
    expect_still_serving();
}

TEST_F(BadHttpTest, WebSocketPathWithoutUpgradeIs400) {
    for (const char* target : {"/ws", "/ws?since=3"}) {
        HttpResponse r = h_.get(target);
        EXPECT_EQ(r.status, 400) << target;
        EXPECT_TRUE(is_error_json(r.body)) << target;
    }
    expect_still_serving();
}

}  // namespace
}  // namespace trainscope::test
