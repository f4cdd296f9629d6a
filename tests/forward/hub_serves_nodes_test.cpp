// The hub (trainscope-agent --hub): two node agents, one rank each under one run id, ship to
// one PostgreSQL; a hub that shares nothing with them but that database lists the run once
// with both ranks and hosts, answers a series exactly as the trainer logged it (full
// resolution, and downsampled exactly as the node's own agent downsamples it), pushes new
// points to a WebSocket client live, and follows the local agent's token rules.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <optional>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <trainscope/model_info.hpp>

#include "forward/node_agent.hpp"
#include "support/agent_token.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

constexpr long kSteps = 8'000;  // at 800 steps/s: 10 s of live logging

/// trainscope-agent --hub on the test's PostgreSQL, with the tests' token.
struct Hub {
    explicit Hub(const std::string& conninfo)
        : process(TS_AGENT_BIN, {"--hub", "--port=0", "--postgres=" + conninfo, "--token=" + test_token()}) {
        auto rest = process.wait_stdout_prefix("trainscope-agent listening on http://127.0.0.1:", 20s);
        if (rest) port = static_cast<unsigned short>(std::stoi(*rest));
    }
    ChildProcess process;
    unsigned short port = 0;
};

std::string series_target(const std::string& run, int rank, const std::string& query) {
    return "/api/runs/" + run + "/metrics/" + url_encode("t0/m0") + "?rank=" + std::to_string(rank) + "&" + query;
}

TEST(Hub, ServesTwoNodesRunAndPushesLive) {
    PostgresServer postgres;
    NodeAgent a("node-a", postgres.conninfo()), b("node-b", postgres.conninfo());
    ASSERT_TRUE(a.start());
    ASSERT_TRUE(b.start());
    Hub hub(postgres.conninfo());
    ASSERT_NE(hub.port, 0) << "the hub did not say it was listening";

    // Token rules as on a local agent: nothing without it.
    EXPECT_EQ(http_request_with(hub.port, "GET", "/api/runs", {}).status, 401);

    const std::string run_id = "hubrun-" + std::to_string(::getpid());
    std::vector<std::string> args{"--name", "hubbed", "--threads", "1", "--metrics", "2",
                                  "--steps", std::to_string(kSteps), "--rate", "800"};
    // Rank 0 describes its model (a real nanoGPT tree from the SDK): the hub's model view.
    std::vector<std::string> args0 = args;
    trainscope::GptModelInfo model;
    model.vocab_size = 65;
    model.n_layer = 2;
    model.n_head = 2;
    model.n_embd = 64;
    model.block_size = 32;
    args0.insert(args0.end(), {"--model_info", trainscope::gpt_model_info_json(model)});
    ChildProcess& t0 = a.start_trainer(run_id, 0, args0);
    ChildProcess& t1 = b.start_trainer(run_id, 1, args);
    ASSERT_TRUE(t0.wait_stdout_prefix("session ", 20s));
    ASSERT_TRUE(t1.wait_stdout_prefix("session ", 20s));

    // The run appears on the hub once shipped; a WebSocket client subscribes to it.
    ASSERT_TRUE(wait_until([&] { return http_get(hub.port, "/api/runs/" + run_id).status == 200; }, 20s))
        << "the hub never saw the run";
    // The model view on the hub: the same tree, checked and re-rendered, as node a serves.
    const std::string model_target = "/api/model-info?session=" + run_id;
    ASSERT_TRUE(wait_until([&] { return http_get(hub.port, model_target).status == 200; }, 20s))
        << http_get(hub.port, model_target).body;
    EXPECT_EQ(http_get(hub.port, model_target).body, a.get(model_target));
    EXPECT_NE(http_get(hub.port, model_target).body.find("\"total_params\""), std::string::npos);
    WsClient ws(hub.port);
    ws.send_text(R"({"type":"subscribe","session_id":")" + run_id + "\"}");
    // Live: points logged after the subscribe arrive as training_updates from both ranks.
    std::set<int> live_ranks;
    std::int64_t live_points = 0;
    EXPECT_TRUE(wait_until([&] {
        auto text = ws.receive_text(1s);
        if (!text) return false;
        rapidjson::Document m = parse_json(*text);
        if (m.IsObject() && string_member(m, "type") == "training_update" &&
            string_member(m, "session_id") == run_id) {
            live_ranks.insert(m["rank"].GetInt());
            for (const auto& p : m["points"].GetArray()) {
                ++live_points;
                // [step, t_ms, value, seq]: the value the trainer logged for that step.
                EXPECT_DOUBLE_EQ(p[2].GetDouble(), p[0].GetDouble() * 0.5 +
                                                       (string_member(m, "metric") == "t0/m1" ? 1 : 0));
            }
        }
        return live_ranks.size() == 2;
    }, 30s, 0ms)) << "no live points from both ranks on the hub";
    EXPECT_GT(live_points, 0);

    for (ChildProcess* t : {&t0, &t1}) {
        auto done = t->wait_stdout_prefix("done ", 60s);
        ASSERT_TRUE(done);
        EXPECT_EQ(*done, "0") << "a trainer dropped records";
    }

    // One run, both ranks, both hosts, finished once both nodes' parts are.
    rapidjson::Document runs;
    EXPECT_TRUE(wait_until([&] {
        runs = parse_json(http_get(hub.port, "/api/runs").body);
        if (!runs.IsObject() || runs["runs"].Size() != 1) return false;
        const auto& r = runs["runs"][0];
        return string_member(r, "status") == "finished" && r["points"].GetInt64() == 2 * 2 * kSteps;
    }, 30s)) << "the hub's run list never showed the whole finished run";
    ASSERT_EQ(runs["runs"].Size(), 1u);
    const auto& run = runs["runs"][0];
    EXPECT_EQ(string_member(run, "session_id"), run_id);
    EXPECT_EQ(string_member(run, "name"), "hubbed");
    ASSERT_EQ(run["ranks"].Size(), 2u);
    EXPECT_EQ(run["ranks"][0].GetInt(), 0);
    EXPECT_EQ(run["ranks"][1].GetInt(), 1);
    std::string hosts = string_member(run, "host");
    EXPECT_NE(hosts.find("node-a"), std::string::npos) << hosts;
    EXPECT_NE(hosts.find("node-b"), std::string::npos) << hosts;

    // The list's filters, as on a node: status, text, a page of one.
    auto listed = [&](const std::string& query) {
        rapidjson::Document d = parse_json(http_get(hub.port, "/api/runs?" + query).body);
        return d.IsObject() ? static_cast<int>(d["runs"].Size()) : -1;
    };
    EXPECT_EQ(listed("status=finished"), 1);
    EXPECT_EQ(listed("status=running"), 0);
    EXPECT_EQ(listed("q=HUBB"), 1);
    EXPECT_EQ(listed("q=nothing-like-it"), 0);
    rapidjson::Document page = parse_json(http_get(hub.port, "/api/runs?limit=1").body);
    ASSERT_TRUE(page.IsObject());
    EXPECT_EQ(page["runs"].Size(), 1u);
    EXPECT_TRUE(page["next_cursor"].IsNull());
    EXPECT_EQ(http_get(hub.port, "/api/runs?status=paused").status, 400);

    for (int rank : {0, 1}) {
        SCOPED_TRACE("rank " + std::to_string(rank));
        NodeAgent& node = rank == 0 ? a : b;
        // Full resolution: every step once, with the logged value.
        rapidjson::Document full = parse_json(http_get(hub.port, series_target(run_id, rank, "max_points=100000")).body);
        ASSERT_TRUE(full.IsObject());
        EXPECT_FALSE(full["downsampled"].GetBool());
        EXPECT_EQ(full["total"].GetInt64(), kSteps);
        ASSERT_EQ(full["points"].Size(), static_cast<rapidjson::SizeType>(kSteps));
        for (rapidjson::SizeType i = 0; i < full["points"].Size(); ++i) {
            const auto& p = full["points"][i];
            ASSERT_EQ(p[0].GetInt64(), static_cast<std::int64_t>(i));
            ASSERT_EQ(p[2].GetDouble(), i * 0.5);
        }
        // Downsampled, whole and over a range: the same envelope the node's own agent answers.
        for (const std::string& query : {std::string("max_points=100"), std::string("max_points=50&from=1000&to=5000")}) {
            SCOPED_TRACE(query);
            rapidjson::Document on_hub = parse_json(http_get(hub.port, series_target(run_id, rank, query)).body);
            rapidjson::Document on_node = parse_json(node.get(series_target(run_id, rank, query)));
            ASSERT_TRUE(on_hub.IsObject() && on_node.IsObject());
            EXPECT_TRUE(on_hub["downsampled"].GetBool());
            EXPECT_EQ(on_hub["total"].GetInt64(), on_node["total"].GetInt64());
            ASSERT_EQ(on_hub["points"].Size(), on_node["points"].Size());
            for (rapidjson::SizeType i = 0; i < on_hub["points"].Size(); ++i) {
                EXPECT_EQ(on_hub["points"][i][0].GetInt64(), on_node["points"][i][0].GetInt64());
                EXPECT_EQ(on_hub["points"][i][2].GetDouble(), on_node["points"][i][2].GetDouble());
            }
        }
    }
    // A second hub on the same database (hubs keep no state) answers the same.
    Hub second(postgres.conninfo());
    ASSERT_NE(second.port, 0);
    EXPECT_EQ(http_get(second.port, "/api/runs").body, http_get(hub.port, "/api/runs").body);
    EXPECT_EQ(http_get(second.port, series_target(run_id, 1, "max_points=100")).body,
              http_get(hub.port, series_target(run_id, 1, "max_points=100")).body);

    // An unknown run or metric is a 404, as on a node.
    EXPECT_EQ(http_get(hub.port, "/api/runs/nope").status, 404);
    EXPECT_EQ(http_get(hub.port, "/api/runs/" + run_id + "/metrics/nope").status, 404);
}

// PostgreSQL restarts under a running hub: meanwhile REST answers 503 naming PostgreSQL, and
// afterwards the hub's listener has reconnected and the same WebSocket client gets the points
// logged since, with no reconnect of its own.
TEST(Hub, LivePushResumesAfterPostgresRestarts) {
    PostgresServer postgres;
    NodeAgent node("node-a", postgres.conninfo());
    ASSERT_TRUE(node.start());
    Hub hub(postgres.conninfo());
    ASSERT_NE(hub.port, 0) << "the hub did not say it was listening";
    const std::string run_id = "hubrestart-" + std::to_string(::getpid());
    ChildProcess& trainer = node.start_trainer(
        run_id, 0, {"--name", "restart", "--threads", "1", "--metrics", "1", "--steps", "30000", "--rate", "500"});
    ASSERT_TRUE(trainer.wait_stdout_prefix("session ", 20s));
    ASSERT_TRUE(wait_until([&] { return http_get(hub.port, "/api/runs/" + run_id).status == 200; }, 20s));
    WsClient ws(hub.port);
    ws.send_text(R"({"type":"subscribe","session_id":")" + run_id + "\"}");
    std::int64_t newest_step = -1;
    auto receive_until = [&](std::int64_t step, std::chrono::milliseconds timeout) {
        return wait_until([&] {
            auto text = ws.receive_text(1s);
            if (!text) return false;
            rapidjson::Document m = parse_json(*text);
            if (m.IsObject() && string_member(m, "type") == "training_update")
                for (const auto& p : m["points"].GetArray()) newest_step = std::max(newest_step, p[0].GetInt64());
            return newest_step >= step;
        }, timeout, 0ms);
    };
    ASSERT_TRUE(receive_until(0, 20s)) << "no live point before the restart";

    postgres.stop();
    HttpResponse away = http_get(hub.port, "/api/runs");
    EXPECT_EQ(away.status, 503);
    EXPECT_NE(away.body.find("PostgreSQL"), std::string::npos) << away.body;
    // /healthz (no token needed) says the hub's link to PostgreSQL is down, and why.
    EXPECT_TRUE(wait_until([&] {
        rapidjson::Document h = parse_json(http_request_with(hub.port, "GET", "/healthz", {}).body);
        return h.IsObject() && h.HasMember("postgres") && !h["postgres"]["ok"].GetBool() &&
               h["postgres"].HasMember("error");
    }, 10s)) << "the hub's /healthz did not report PostgreSQL down";
    std::this_thread::sleep_for(3s);  // the trainer logs on; the node spools
    std::int64_t before_restart = newest_step;
    postgres.start();

    // 500 steps/s: 3 s away is about 1,500 steps; points well past them arrive live.
    EXPECT_TRUE(receive_until(before_restart + 3'000, 30s))
        << "live points stopped at step " << newest_step << " (" << before_restart << " before the restart)";
    EXPECT_FALSE(ws.closed());
    EXPECT_EQ(http_get(hub.port, "/api/runs").status, 200);
    rapidjson::Document health = parse_json(http_request_with(hub.port, "GET", "/healthz", {}).body);
    ASSERT_TRUE(health.IsObject() && health.HasMember("postgres"));
    EXPECT_TRUE(health["postgres"]["ok"].GetBool());
}

// A hub has nothing to serve without PostgreSQL: it refuses to start and says what it needs.
TEST(Hub, WithoutPostgresItRefusesToStart) {
    ChildProcess hub(TS_AGENT_BIN, {"--hub", "--port=0", "--token=" + test_token()}, {{"TRAINSCOPE_POSTGRES", ""}});
    std::optional<int> status = hub.wait_exit(20s);
    ASSERT_TRUE(status) << "the hub kept running without PostgreSQL";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 64) << "not EX_USAGE: " << *status;
    // Read as it arrives: the output is pumped by a thread of its own, maybe still behind.
    auto says = hub.wait_stderr([](const std::string& line) { return line.find("--postgres") != std::string::npos; });
    EXPECT_TRUE(says) << "the hub did not name --postgres in its log";
}

}  // namespace
}  // namespace trainscope::test
