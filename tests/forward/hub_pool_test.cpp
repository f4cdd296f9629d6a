// The hub's PostgreSQL connections: many WebSocket clients share a small bounded pool.
// - PgPool on a real PostgreSQL: a third lease of a pool of two waits, then fails saying the
//   connections are busy; a connection given back is handed out again, not a new one.
// - A hub with --hub-connections=3 and 40 WebSocket clients subscribed to a live run: every
//   client gets live points, REST answers meanwhile, and PostgreSQL sees no more than the
//   pool's three connections from the hub plus its listener's (pg_stat_activity).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "forward/hub_process.hpp"
#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "hub/pg_pool.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

TEST(HubPool, ABusyPoolSaysSoAndReusesConnections) {
    PostgresServer postgres;
    agent::PgPool pool(postgres.conninfo(), agent::PgPoolOptions{2, std::chrono::milliseconds(200)});
    {
        agent::PgPool::Lease a = pool.lease();
        agent::PgPool::Lease b = pool.lease();
        EXPECT_EQ(a->exec("SELECT 1").int64(0, 0), 1);
        try {
            agent::PgPool::Lease c = pool.lease();
            ADD_FAILURE() << "a third lease of a pool of two was granted";
        } catch (const agent::PgError& e) {
            EXPECT_NE(std::string(e.what()).find("all 2 PostgreSQL connections of the hub are busy"), std::string::npos)
                << e.what();
        }
        EXPECT_EQ(pool.stats().exhausted, 1u);
        EXPECT_EQ(pool.stats().leased, 2u);
    }
    // Given back: the next leases reuse them (same backend pids), nothing new is opened.
    std::set<std::int64_t> pids;
    for (int i = 0; i < 10; ++i) pids.insert(pool.lease()->exec("SELECT pg_backend_pid()").int64(0, 0));
    EXPECT_LE(pids.size(), 2u);
    EXPECT_EQ(pool.stats().open, 2u);
    EXPECT_EQ(pool.stats().leased, 0u);
    // A connection left mid-transaction is closed on return, not handed out dirty.
    {
        agent::PgPool::Lease dirty = pool.lease();
        dirty->exec("BEGIN");
    }
    EXPECT_EQ(pool.stats().open, 1u);
    agent::PgPool::Lease clean = pool.lease();
    EXPECT_EQ(PQtransactionStatus(clean->handle()), PQTRANS_IDLE);
}

TEST(HubPool, FortyClientsShareThreeConnections) {
    PostgresServer postgres;
    NodeAgent node("node-a", postgres.conninfo());
    ASSERT_TRUE(node.start());
    HubProcess hub(postgres.conninfo(), {"--hub-connections=3"});
    ASSERT_NE(hub.port, 0);
    const std::string run = "pooled-" + std::to_string(::getpid());
    ChildProcess& trainer = node.start_trainer(
        run, 0, {"--name", "pooled", "--threads", "1", "--metrics", "1", "--steps", "40000", "--rate", "1000"});
    ASSERT_TRUE(trainer.wait_stdout_prefix("session ", 20s));
    ASSERT_TRUE(wait_until([&] { return http_get(hub.port, "/api/runs/" + run).status == 200; }, 20s));

    constexpr int kClients = 40;  // the hub takes 48 WebSocket clients (its HTTP threads)
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(std::make_unique<WsClient>(hub.port));
        clients.back()->send_text(R"({"type":"subscribe","session_id":")" + run + "\"}");
    }
    // Every client hears live points of the run (after its hello and any replay).
    for (int i = 0; i < kClients; ++i)
        EXPECT_TRUE(receive_until(*clients[i], [&](const rapidjson::Document& m) {
            return string_member(m, "type") == "training_update" && string_member(m, "session_id") == run;
        }, 30s)) << "client " << i << " got no live point";
    EXPECT_EQ(http_get(hub.port, "/api/runs").status, 200);

    // The hub's connections: the pool's (at most 3) and the listener's; the node's shipper
    // and this query's own are the others.
    agent::PgConnection pg(postgres.conninfo());
    std::int64_t backends = pg.exec("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                                .int64(0, 0);
    EXPECT_LE(backends, 3 + 1 + 1 + 1) << "the hub opened a connection per client";
    std::string metrics = http_get(hub.port, "/metrics").body;
    EXPECT_NE(metrics.find("trainscope_hub_pg_connections_max 3"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("trainscope_websocket_clients 40"), std::string::npos);
}

}  // namespace
}  // namespace trainscope::test
