// Proves: with --postgres the local store is a spool that loses nothing: a run PostgreSQL does
// not hold yet is neither deleted through the API (409, saying why) nor by retention (kept,
// said once), and once it is shipped the same DELETE goes through with every point in
// PostgreSQL.
#include <gtest/gtest.h>

#include <ctime>

#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "store/store.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using agent::PgConnection;

std::int64_t points_in_postgres(const std::string& conninfo, const std::string& run) {
    try {
        PgConnection pg(conninfo);
        return pg.exec("SELECT count(*) FROM trainscope.points p JOIN trainscope.series s ON s.id = p.series_id "
                       "WHERE s.session_id = $1", {run}).int64(0, 0);
    } catch (const std::exception&) {
        return -1;  // not there yet (no schema, or the server is down)
    }
}

TEST(SpoolKeepsUnshipped, DeleteWaitsUntilPostgresHoldsTheRun) {
    PostgresServer postgres;
    postgres.stop();  // the node cannot ship: everything it stores stays in its spool
    NodeAgent node("spool-node", postgres.conninfo());
    ASSERT_TRUE(node.start());
    ChildProcess& trainer = node.start_trainer("spool-run", 0, {"--name", "spool", "--steps", "300"});
    ASSERT_TRUE(trainer.wait_stdout_prefix("done ", 20s));
    ASSERT_TRUE(wait_until([&] {
        return node.get("/api/runs/spool-run").find("\"status\":\"finished\"") != std::string::npos;
    }, 20s));

    HttpResponse refused = http_request(node.port(), "DELETE", "/api/runs/spool-run");
    EXPECT_TRUE(is_json_error_response(refused, 409, 409)) << refused.body;
    EXPECT_NE(refused.body.find("not all in PostgreSQL"), std::string::npos) << refused.body;
    EXPECT_EQ(http_get(node.port(), "/api/runs/spool-run").status, 200) << "the run was deleted anyway";

    postgres.start();
    // Once shipped (the run's end included), the same request deletes it here.
    int status = 0;
    EXPECT_TRUE(wait_until([&] {
        status = http_request(node.port(), "DELETE", "/api/runs/spool-run").status;
        return status == 200;
    }, 30s, 250ms)) << "last status " << status;
    EXPECT_EQ(points_in_postgres(postgres.conninfo(), "spool-run"), 300);
    EXPECT_EQ(http_get(node.port(), "/api/runs/spool-run").status, 404);
    EXPECT_EQ(http_request(node.port(), "DELETE", "/api/runs/no-such-run").status, 404);
}

TEST(SpoolKeepsUnshipped, RetentionKeepsWhatWasNotShipped) {
    PostgresServer postgres;
    postgres.stop();
    NodeAgent node("retention-node", postgres.conninfo());
    // Three runs that ended ten days ago, written by an agent that never reached PostgreSQL.
    std::vector<std::string> old_runs;
    {
        agent::Store store(node.data_dir() + "/trainscope.db");
        double ten_days_ago = (static_cast<double>(std::time(nullptr)) - 10 * 86'400.0) * 1000.0;
        for (int i = 0; i < 3; ++i) {
            std::string id = "old-run-" + std::to_string(i);
            store.register_run(id, id, "retention-node", 1, ten_days_ago + i);
            agent::CommitBatch batch;
            std::int64_t series = store.series_id(id, 0, "train/loss");
            for (int p = 0; p < 50; ++p)
                batch.points.push_back(agent::PendingPoint{series, p, static_cast<std::int64_t>(ten_days_ago * 1000) + p, 1.0});
            batch.runs.push_back(agent::RunUpdate{id, "finished", "", "", ten_days_ago + 500});
            store.commit(batch);
            old_runs.push_back(id);
        }
    }
    ASSERT_TRUE(node.start({"--retain-days=7"}));
    for (const std::string& id : old_runs)
        EXPECT_TRUE(node.agent().wait_stderr([&](const std::string& line) {
            return line.find("retention: keeping run " + id + " until PostgreSQL holds all of it") != std::string::npos;
        }, 20s)) << id;
    for (const std::string& id : old_runs) EXPECT_EQ(http_get(node.port(), "/api/runs/" + id).status, 200) << id;
    for (const std::string& line : node.agent().stderr_lines())
        EXPECT_EQ(line.find("retention: deleted run"), std::string::npos) << line;
}

}  // namespace
}  // namespace trainscope::test
