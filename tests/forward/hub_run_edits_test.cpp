// The runs table, edits and deletion on the hub (PostgreSQL), across two hubs that share
// nothing but the database: an edit on one is checked as a node checks it, stored in
// PostgreSQL, pushed to the other hub's WebSocket client (run_updated) and searchable there;
// the runs table answers the trainer's figures; a run is refused deletion while its node runs
// it, then deleted from PostgreSQL (run_deleted on the other hub), and a node agent restarted
// with the run still in its spool does not bring it back. Also /metrics on a hub: the newest
// value per run, metric and rank from PostgreSQL, and the hub's own figures.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "forward/hub_process.hpp"
#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

constexpr long kSteps = 3'000;  // at 1,000 steps/s: 3 s of a running run

bool is_event(const rapidjson::Document& m, const char* type, const std::string& run) {
    return string_member(m, "type") == type && string_member(m, "session_id") == run;
}

TEST(HubRuns, EditsTableMetricsAndDeletionAcrossTwoHubs) {
    PostgresServer postgres;
    NodeAgent node("node-a", postgres.conninfo());
    ASSERT_TRUE(node.start());
    HubProcess one(postgres.conninfo()), two(postgres.conninfo());
    ASSERT_NE(one.port, 0);
    ASSERT_NE(two.port, 0);

    const std::string run = "hubedit-" + std::to_string(::getpid());
    ChildProcess& trainer = node.start_trainer(
        run, 0, {"--name", "trainer-name", "--threads", "1", "--metrics", "2", "--steps", std::to_string(kSteps),
                 "--rate", "1000"});
    ASSERT_TRUE(trainer.wait_stdout_prefix("session ", 20s));
    ASSERT_TRUE(wait_until([&] { return http_get(one.port, "/api/runs/" + run).status == 200; }, 20s));
    WsClient watcher(two.port);  // every client hears run_updated and run_deleted

    // Refused while its node reports it running.
    HttpResponse live = http_request(one.port, "DELETE", "/api/runs/" + run);
    EXPECT_EQ(live.status, 409) << live.body;
    // /metrics while it runs: its newest values per metric and rank, from PostgreSQL.
    EXPECT_TRUE(wait_until([&] {
        return http_get(one.port, "/metrics").body.find("trainscope_metric_last{session_id=\"" + run +
                                                        "\",run=\"trainer-name\",metric=\"t0/m1\",rank=\"0\"}") !=
               std::string::npos;
    }, 20s)) << http_get(one.port, "/metrics").body;
    std::string metrics = http_get(one.port, "/metrics").body;
    EXPECT_NE(metrics.find("trainscope_run_running{session_id=\"" + run + "\",run=\"trainer-name\"} 1"),
              std::string::npos) << metrics;
    EXPECT_NE(metrics.find("trainscope_hub_pg_connections_max 8"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("trainscope_hub_postgres_ok 1"), std::string::npos) << metrics;

    // Checked exactly as on a node: a 400 naming the field, nothing stored.
    HttpResponse bad = http_request_body(one.port, "PATCH", "/api/runs/" + run, R"({"tags":["has space"]})");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("tag 'has space'"), std::string::npos) << bad.body;
    EXPECT_EQ(http_request_body(one.port, "PATCH", "/api/runs/" + run, R"({"colour":"red"})").status, 400);
    EXPECT_EQ(http_request_body(one.port, "PATCH", "/api/runs/nope", R"({"notes":"x"})").status, 404);

    HttpResponse edited = http_request_body(one.port, "PATCH", "/api/runs/" + run,
                                            R"({"name":"  renamed ","notes":"first try\nlr sweep","tags":["exp-1","lr:0.1"]})");
    ASSERT_EQ(edited.status, 200) << edited.body;
    rapidjson::Document answer = parse_json(edited.body);
    EXPECT_EQ(string_member(answer, "name"), "renamed");
    EXPECT_EQ(string_member(answer, "original_name"), "trainer-name");
    // The other hub's client hears it, with the run as it now is.
    EXPECT_TRUE(receive_until(watcher, [&](const rapidjson::Document& m) {
        return is_event(m, "run_updated", run) && m.HasMember("run") && string_member(m["run"], "name") == "renamed";
    }, 20s)) << "no run_updated on the second hub" << two.output();
    // And searches it: by tag, by a word of the notes, by the trainer's name.
    for (const char* q : {"lr:0.1", "SWEEP", "trainer-name", "renamed"}) {
        rapidjson::Document list = parse_json(http_get(two.port, std::string("/api/runs?q=") + url_encode(q)).body);
        ASSERT_TRUE(list.IsObject());
        EXPECT_EQ(list["runs"].Size(), 1u) << q;
    }
    rapidjson::Document got = parse_json(http_get(two.port, "/api/runs/" + run).body);
    EXPECT_EQ(string_member(got, "notes"), "first try\nlr sweep");
    ASSERT_TRUE(got["tags"].IsArray());
    ASSERT_EQ(got["tags"].Size(), 2u);
    EXPECT_EQ(std::string(got["tags"][1].GetString()), "lr:0.1");

    auto done = trainer.wait_stdout_prefix("done ", 60s);
    ASSERT_TRUE(done);
    ASSERT_TRUE(wait_until([&] {
        rapidjson::Document r = parse_json(http_get(two.port, "/api/runs/" + run).body);
        return r.IsObject() && string_member(r, "status") == "finished" && r["points"].GetInt64() == 2 * kSteps;
    }, 30s)) << "the run never finished on the hub";

    // The runs table: the edit, the config, and each metric's latest and best at rank 0.
    HttpResponse table_answer = http_get(two.port, "/api/runs/table?metrics=t0/m0,t0/m1,nothing");
    ASSERT_EQ(table_answer.status, 200) << table_answer.body;
    rapidjson::Document table = parse_json(table_answer.body);
    ASSERT_EQ(table["runs"].Size(), 1u);
    const auto& row = table["runs"][0];
    EXPECT_EQ(string_member(row, "name"), "renamed");
    EXPECT_EQ(string_member(row, "original_name"), "trainer-name");
    EXPECT_EQ(row["tags"].Size(), 2u);
    EXPECT_EQ(row["points"].GetInt64(), 2 * kSteps);
    for (int m : {0, 1}) {
        std::string name = "t0/m" + std::to_string(m);
        ASSERT_TRUE(row["figures"].HasMember(name.c_str())) << name;
        const auto& f = row["figures"][name.c_str()];
        double last = (kSteps - 1) * 0.5 + m;
        EXPECT_EQ(f["latest"].GetDouble(), last);
        EXPECT_EQ(f["latest_step"].GetInt64(), kSteps - 1);
        EXPECT_EQ(f["best"].GetDouble(), last);  // not loss-like: the highest is best
        EXPECT_EQ(f["points"].GetInt64(), kSteps);
    }
    EXPECT_FALSE(row["figures"].HasMember("nothing"));
    ASSERT_EQ(table["metric_names"].Size(), 2u);
    EXPECT_EQ(http_get(two.port, "/api/runs/table?limit=0").status, 400);

    // Back to the trainer's name.
    ASSERT_EQ(http_request_body(two.port, "PATCH", "/api/runs/" + run, R"({"name":""})").status, 200);
    EXPECT_EQ(string_member(parse_json(http_get(one.port, "/api/runs/" + run).body), "name"), "trainer-name");

    // Deleted from PostgreSQL once it ended; the other hub's client hears it.
    HttpResponse deleted = http_request(one.port, "DELETE", "/api/runs/" + run);
    ASSERT_EQ(deleted.status, 200) << deleted.body;
    EXPECT_TRUE(receive_until(watcher, [&](const rapidjson::Document& m) { return is_event(m, "run_deleted", run); },
                              20s)) << "no run_deleted on the second hub" << two.output();
    EXPECT_EQ(http_get(two.port, "/api/runs/" + run).status, 404);
    EXPECT_EQ(http_get(two.port, "/api/runs/" + run + "/metrics/t0%2Fm0").status, 404);
    EXPECT_EQ(http_request(two.port, "DELETE", "/api/runs/" + run).status, 404);
    EXPECT_EQ(http_get(one.port, "/metrics").body.find(run), std::string::npos);
    {
        // Nothing of its points stays in PostgreSQL (the test's only run): rows, latest, rollups.
        agent::PgConnection pg(postgres.conninfo());
        for (const char* table : {"points", "latest", "rollups"})
            EXPECT_EQ(pg.exec(std::string("SELECT count(*) FROM trainscope.") + table).int64(0, 0), 0) << table;
    }

    // The node still holds the run in its spool: restarted, it reads what it shipped from
    // PostgreSQL and must not ship the deleted run again.
    node.kill();
    ASSERT_TRUE(node.start());
    ASSERT_TRUE(wait_until([&] {
        rapidjson::Document h = node.healthz();
        return h.IsObject() && h.HasMember("forwarding") && h["forwarding"]["ok"].GetBool() &&
               h["forwarding"]["behind_points"].GetInt64() == 0;
    }, 30s)) << "the restarted node never caught up with PostgreSQL";
    std::this_thread::sleep_for(2s);  // a few more shipping rounds
    rapidjson::Document after = parse_json(http_get(two.port, "/api/runs").body);
    ASSERT_TRUE(after.IsObject());
    EXPECT_EQ(after["runs"].Size(), 0u) << "the deleted run came back from the node's spool";
    // The node's own copy is the spool's business: it still has the run.
    EXPECT_NE(node.get("/api/runs/" + run).find("trainer-name"), std::string::npos);
}

}  // namespace
}  // namespace trainscope::test
