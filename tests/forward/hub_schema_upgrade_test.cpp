// A database a version-1 agent shipped into (before the hub's tables and seq ranges) is
// upgraded by the first agent or hub that connects: the runs already there get one hub seq
// range per node, so a hub replays them to a WebSocket client whole, numbered 1..N, and a
// node that ships more of the run afterwards continues the numbering.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "forward/hub_process.hpp"
#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

TEST(HubSchemaUpgrade, RunsShippedBeforeVersion4AreReplayedWhole) {
    PostgresServer postgres;
    NodeAgent a("node-a", postgres.conninfo()), b("node-b", postgres.conninfo());
    ASSERT_TRUE(a.start());
    ASSERT_TRUE(b.start());
    const std::string run = "upgraded-" + std::to_string(::getpid());
    std::vector<std::string> args{"--name", "old", "--threads", "1", "--metrics", "2", "--steps", "1500"};
    ChildProcess& t0 = a.start_trainer(run, 0, args);
    ChildProcess& t1 = b.start_trainer(run, 1, args);
    ASSERT_TRUE(t0.wait_stdout_prefix("done ", 30s));
    ASSERT_TRUE(t1.wait_stdout_prefix("done ", 30s));
    const std::int64_t total = 2 * 2 * 1500;
    agent::PgConnection pg(postgres.conninfo());
    agent::ensure_pg_schema(pg);  // the trainers may be done before a shipper connected
    ASSERT_TRUE(wait_until([&] {
        return pg.exec("SELECT COALESCE(sum(shipped_seq), 0) FROM trainscope.run_nodes").int64(0, 0) == total;
    }, 30s));
    a.kill();
    b.kill();

    // Back to version 1: what this PostgreSQL would hold from an agent before version 4.
    pg.exec("DROP TABLE trainscope.run_meta, trainscope.deleted_runs, trainscope.run_seq_map");
    pg.exec("DROP FUNCTION trainscope.number_shipped_range() CASCADE");
    pg.exec("DROP FUNCTION trainscope.refuse_deleted_run() CASCADE");
    pg.exec("UPDATE trainscope.schema_version SET version = 1");

    HubProcess hub(postgres.conninfo());  // upgrades it
    ASSERT_NE(hub.port, 0);
    EXPECT_EQ(pg.exec("SELECT version FROM trainscope.schema_version").int64(0, 0), agent::kPgSchemaVersion);
    EXPECT_EQ(pg.exec("SELECT count(*) FROM trainscope.run_seq_map").int64(0, 0), 2) << "one range per node";

    WsClient ws(hub.port);
    ws.send_text(R"({"type":"subscribe","session_id":")" + run + R"(","since_seq":0})");
    std::map<std::int64_t, std::pair<std::string, std::int64_t>> got;  // seq -> (rank/metric, step)
    EXPECT_TRUE(receive_until(ws, [&](const rapidjson::Document& m) {
        if (string_member(m, "type") == "training_update")
            for (const auto& p : m["points"].GetArray())
                got.emplace(p[3].GetInt64(), std::make_pair(std::to_string(m["rank"].GetInt()) + string_member(m, "metric"),
                                                            p[0].GetInt64()));
        return static_cast<std::int64_t>(got.size()) == total;
    }, 30s)) << got.size() << " of " << total;
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.begin()->first, 1);
    EXPECT_EQ(got.rbegin()->first, total);

    // A node that ships more of the run after the upgrade continues the numbering, live.
    ASSERT_TRUE(a.start());
    ChildProcess& more = a.start_trainer(run, 2, {"--name", "old", "--threads", "1", "--metrics", "1", "--steps", "500"});
    ASSERT_TRUE(more.wait_stdout_prefix("done ", 30s));
    EXPECT_TRUE(receive_until(ws, [&](const rapidjson::Document& m) {
        if (string_member(m, "type") == "training_update")
            for (const auto& p : m["points"].GetArray())
                got.emplace(p[3].GetInt64(), std::make_pair(std::to_string(m["rank"].GetInt()) + string_member(m, "metric"),
                                                            p[0].GetInt64()));
        return static_cast<std::int64_t>(got.size()) == total + 500;
    }, 30s)) << got.size() << " of " << total + 500 << "\n" << hub.output();
    EXPECT_EQ(got.rbegin()->first, total + 500) << "the hub seq did not go on from the upgraded ranges";
}

}  // namespace
}  // namespace trainscope::test
