// The agent creates the PostgreSQL schema it needs on an empty database, finds and reuses it
// on a second start, and refuses a schema newer than it knows.
#include <gtest/gtest.h>

#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using agent::PgConnection;
using agent::PgError;

std::int64_t count(PgConnection& pg, const std::string& sql) { return pg.exec(sql).int64(0, 0); }

const char* kTables =
    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'trainscope' AND table_name IN "
    "('schema_version', 'agents', 'ledger', 'runs', 'run_nodes', 'series', 'points', 'latest', 'events', 'rollups')";

TEST(PgSchema, AnAgentCreatesItOnAnEmptyDatabaseAndReusesItOnItsNextStart) {
    PostgresServer postgres;
    PgConnection admin(postgres.conninfo());
    admin.exec("CREATE DATABASE empty_db");
    std::string conninfo = postgres.conninfo() + " dbname=empty_db";  // the last dbname wins
    PgConnection pg(conninfo);
    EXPECT_EQ(count(pg, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'trainscope'"), 0);

    NodeAgent node("schema-node", conninfo);
    ASSERT_TRUE(node.start());
    ASSERT_TRUE(wait_until([&] { return count(pg, kTables) == 10 &&
                                        count(pg, "SELECT count(*) FROM trainscope.agents") == 1; }, 20s))
        << "the agent did not create the schema and register itself";
    EXPECT_EQ(count(pg, "SELECT version FROM trainscope.schema_version"), agent::kPgSchemaVersion);
    std::string id = pg.exec("SELECT agent_id FROM trainscope.agents").text(0, 0);
    pg.exec("INSERT INTO trainscope.ledger (agent_id, batch_seq, points) VALUES ('someone', 1, 0)");

    // Second start: same tables, same agent id, the rows kept, still healthy.
    node.kill();
    ASSERT_TRUE(node.start());
    ASSERT_TRUE(wait_until([&] {
        rapidjson::Document h = node.healthz();
        return h.IsObject() && h.HasMember("forwarding") && h["forwarding"]["ok"].GetBool();
    }, 20s)) << "the restarted agent does not forward";
    EXPECT_EQ(count(pg, kTables), 10);
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.schema_version"), 1);
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.agents"), 1);
    EXPECT_EQ(pg.exec("SELECT agent_id FROM trainscope.agents").text(0, 0), id);
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.ledger WHERE agent_id = 'someone'"), 1);
}

TEST(PgSchema, ANewerSchemaIsRefusedWithBothVersions) {
    PostgresServer postgres;
    PgConnection pg(postgres.conninfo());
    agent::ensure_pg_schema(pg);
    pg.exec("UPDATE trainscope.schema_version SET version = 99");
    try {
        agent::ensure_pg_schema(pg);
        FAIL() << "an agent wrote into a schema newer than it knows";
    } catch (const PgError& e) {
        EXPECT_NE(std::string(e.what()).find("version 99"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("up to " + std::to_string(agent::kPgSchemaVersion)), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(count(pg, "SELECT version FROM trainscope.schema_version"), 99);
}

}  // namespace
}  // namespace trainscope::test
