// The issue's first promise about many machines: four node agents (each its own namespace,
// data dir and host name) with two ranks each under one run id ship into one PostgreSQL, and
// every point of all eight ranks is there exactly once after one node agent is SIGKILLed and
// restarted mid-run and PostgreSQL itself is stopped for 20 s and started again. While
// PostgreSQL is down the agents say how far behind they are.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using agent::PgConnection;
using agent::PgResult;

constexpr int kNodes = 4;
constexpr int kRanksPerNode = 2;
constexpr long kSteps = 24'000;  // at 1,000 steps/s: each trainer logs for 24 s
constexpr long kMetrics = 2;

std::int64_t count(PgConnection& pg, const std::string& sql) { return pg.exec(sql).int64(0, 0); }

TEST(NodesExactlyOnce, FourNodesSurviveAnAgentKillAndAPostgresStop) {
    PostgresServer postgres;
    std::vector<std::unique_ptr<NodeAgent>> nodes;
    for (int n = 0; n < kNodes; ++n) {
        nodes.push_back(std::make_unique<NodeAgent>("node-" + std::to_string(n), postgres.conninfo()));
        ASSERT_TRUE(nodes.back()->start());
    }
    const std::string run_id = "multinode-" + std::to_string(::getpid());
    std::vector<ChildProcess*> trainers;
    for (int n = 0; n < kNodes; ++n)
        for (int r = 0; r < kRanksPerNode; ++r)
            trainers.push_back(&nodes[n]->start_trainer(
                run_id, n * kRanksPerNode + r,
                {"--name", "multinode", "--threads", "1", "--metrics", std::to_string(kMetrics), "--steps",
                 std::to_string(kSteps), "--rate", "1000", "--config", R"({"lr": 0.25, "nodes": 4})"}));
    for (ChildProcess* t : trainers) ASSERT_TRUE(t->wait_stdout_prefix("session ", 20s));

    // A node agent dies mid-run and comes back on the same data dir.
    std::this_thread::sleep_for(3s);
    nodes[1]->kill();
    ASSERT_TRUE(nodes[1]->start());

    // PostgreSQL goes away for 20 s; meanwhile the agents keep storing and say they are behind.
    std::this_thread::sleep_for(2s);
    postgres.stop();
    auto stopped_at = std::chrono::steady_clock::now();
    for (auto& node : nodes) {
        std::uint64_t behind = 0;
        std::string error;
        EXPECT_TRUE(wait_until([&] {
            rapidjson::Document h = node->healthz();
            if (!h.IsObject() || !h.HasMember("forwarding")) return false;
            const rapidjson::Value& f = h["forwarding"];
            behind = f["behind_points"].GetUint64();
            error = f.HasMember("error") ? f["error"].GetString() : "";
            return !f["ok"].GetBool() && behind > 0;
        }, 15s)) << node->host_name() << " did not report forwarding failing with points behind";
        EXPECT_NE(error.find("PostgreSQL"), std::string::npos) << error;
        std::string metrics = node->get("/metrics");
        EXPECT_NE(metrics.find("trainscope_forward_ok 0"), std::string::npos);
        EXPECT_NE(metrics.find("trainscope_forward_behind_points "), std::string::npos);
    }
    std::this_thread::sleep_until(stopped_at + 20s);
    postgres.start();

    for (ChildProcess* t : trainers) {
        auto done = t->wait_stdout_prefix("done ", 60s);
        ASSERT_TRUE(done) << "a trainer did not finish";
        EXPECT_EQ(*done, "0") << "a trainer dropped records";
    }
    const std::int64_t expected = kNodes * kRanksPerNode * kMetrics * kSteps;
    PgConnection pg(postgres.conninfo());
    std::int64_t shipped = 0;
    EXPECT_TRUE(wait_until([&] {
        shipped = count(pg, "SELECT count(*) FROM trainscope.points");
        return shipped >= expected;
    }, 60s, 250ms)) << shipped << " of " << expected << " points reached PostgreSQL";
    // Let the agents ship anything extra they might (there must be nothing).
    for (auto& node : nodes)
        EXPECT_TRUE(wait_until([&] {
            rapidjson::Document h = node->healthz();
            return h.IsObject() && h["forwarding"]["ok"].GetBool() && h["forwarding"]["behind_points"].GetUint64() == 0;
        }, 20s)) << node->host_name() << " still behind";

    // Exactly once: per rank and metric, every step once, with the value the trainer logged.
    PgResult per_series = pg.exec(
        "SELECT s.rank, s.name, count(*), count(DISTINCT p.step), min(p.step), max(p.step), "
        "count(*) FILTER (WHERE p.value <> p.step * 0.5 + CASE s.name WHEN 't0/m1' THEN 1 ELSE 0 END) "
        "FROM trainscope.points p JOIN trainscope.series s ON s.id = p.series_id "
        "WHERE s.session_id = '" + run_id + "' GROUP BY s.rank, s.name ORDER BY s.rank, s.name");
    ASSERT_EQ(per_series.rows(), kNodes * kRanksPerNode * kMetrics);
    for (int i = 0; i < per_series.rows(); ++i) {
        SCOPED_TRACE("rank " + per_series.text(i, 0) + " " + per_series.text(i, 1));
        EXPECT_EQ(per_series.int64(i, 2), kSteps);
        EXPECT_EQ(per_series.int64(i, 3), kSteps);
        EXPECT_EQ(per_series.int64(i, 4), 0);
        EXPECT_EQ(per_series.int64(i, 5), kSteps - 1);
        EXPECT_EQ(per_series.int64(i, 6), 0) << "values differ from what the trainer logged";
    }
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.points"), expected);
    // Every point went in one ledgered batch.
    EXPECT_EQ(count(pg, "SELECT sum(points) FROM trainscope.ledger"), expected);

    // One run; each rank keeps its host, and the four hosts are the four nodes.
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.runs WHERE session_id = '" + run_id + "'"), 1);
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.run_nodes WHERE session_id = '" + run_id + "'"), kNodes);
    EXPECT_EQ(pg.exec("SELECT config::jsonb = '{\"lr\": 0.25, \"nodes\": 4}'::jsonb FROM trainscope.runs").text(0, 0), "t")
        << "the trainers' config reached PostgreSQL with the run";
    PgResult hosts = pg.exec("SELECT DISTINCT rank, host FROM trainscope.series WHERE session_id = '" + run_id +
                             "' ORDER BY rank");
    ASSERT_EQ(hosts.rows(), kNodes * kRanksPerNode);
    for (int i = 0; i < hosts.rows(); ++i)
        EXPECT_EQ(hosts.text(i, 1), "node-" + std::to_string(hosts.int64(i, 0) / kRanksPerNode));
    EXPECT_TRUE(wait_until([&] {
        return count(pg, "SELECT count(*) FROM trainscope.run_nodes WHERE session_id = '" + run_id +
                             "' AND status = 'finished'") == kNodes;
    }, 20s)) << "every node's part of the run ends finished";
    // The latest-value table holds each series' last step.
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.latest l JOIN trainscope.series s ON s.id = l.series_id "
                        "WHERE s.session_id = '" + run_id + "' AND l.step = " + std::to_string(kSteps - 1)),
              kNodes * kRanksPerNode * kMetrics);
}

}  // namespace
}  // namespace trainscope::test
