// Proves: JSON from outside the agent — WebSocket client frames, a trainer's config and model
// info — is parsed without recursion and within a size and a depth limit. Over a limit the
// sender gets a JSON error naming it, and the agent keeps serving everyone.
#include "agent/agent_harness.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

using JsonLimitsTest = AgentProcessTest;

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

/// The error text of an agent message {"type":"error","error":...}; "" if it is not one.
std::string ws_error(const std::optional<std::string>& message) {
    if (!message) return "";
    rapidjson::Document d = parse_json(*message);
    return d.IsObject() && string_member(d, "type") == "error" ? string_member(d, "error") : "";
}

/// The agent still answers REST and greets a new WebSocket client.
void expect_agent_serving(const AgentHarness& h) {
    EXPECT_EQ(h.get("/healthz").status, 200);
    WsClient fresh(h.port());
    auto hello = fresh.receive_text();
    ASSERT_TRUE(hello);
    EXPECT_NE(hello->find("\"hello\""), std::string::npos);
}

TEST_F(JsonLimitsTest, DeepFrameGetsTheDepthLimitAndTheConnectionGoesOn) {
    WsClient ws(h_.port());
    ASSERT_TRUE(ws.receive_text());  // hello
    ws.send_text(nested(30'000));    // 60 KB: within the size limit, far over the depth limit
    std::string error = ws_error(ws.receive_text());
    EXPECT_NE(error.find("depth limit of 64"), std::string::npos) << error;
    ws.send_text("{\"type\":\"ping\"}");
    auto pong = ws.receive_text();
    ASSERT_TRUE(pong);
    EXPECT_NE(pong->find("pong"), std::string::npos);
}

TEST_F(JsonLimitsTest, MillionNestedBracketsAndTenMegabyteFrameGetTheSizeLimit) {
    for (const std::string& frame : {nested(1'000'000), "\"" + std::string(10 << 20, 'x') + "\""}) {
        WsClient ws(h_.port());
        ASSERT_TRUE(ws.receive_text());  // hello
        // The agent answers after the frame's header, while we may still be sending its body.
        std::thread sender([&] {
            try {
                ws.send_text(frame);
            } catch (const std::exception&) {  // the agent closed before taking it all: expected
            }
        });
        std::string error = ws_error(ws.receive_text());
        sender.join();
        EXPECT_NE(error.find("size limit of 65536 bytes"), std::string::npos) << error;
        EXPECT_FALSE(ws.receive_text(2s));
        EXPECT_TRUE(ws.closed());
        expect_agent_serving(h_);
    }
}

TEST_F(JsonLimitsTest, DeepModelInfoAndConfigGetTheDepthLimit) {
    // 60,000 levels: 120 KB, inside the model-info blob; 30,000 fit the 64 KiB config blob.
    ChildProcess& trainer = h_.start_producer(
        {"--steps", "10", "--model_info", "{\"tree\":" + nested(60'000) + "}", "--config",
         "{\"a\":" + nested(30'000) + "}"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(AgentHarness::done_of(trainer));
    ASSERT_TRUE(h_.wait_status(id, "finished"));

    HttpResponse info = h_.get("/api/model-info?session=" + id);
    EXPECT_EQ(info.status, 422) << info.body;
    rapidjson::Document body = parse_json(info.body);
    ASSERT_TRUE(body.IsObject());
    EXPECT_NE(string_member(body, "error").find("depth limit of 128"), std::string::npos) << info.body;

    rapidjson::Document run = h_.run(id);
    ASSERT_TRUE(run.IsObject());
    ASSERT_TRUE(run["config"].IsObject());
    EXPECT_NE(string_member(run["config"], "error").find("depth limit of 64"), std::string::npos);
    expect_agent_serving(h_);
}

}  // namespace
}  // namespace trainscope::test
