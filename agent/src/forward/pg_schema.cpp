#include "forward/pg_schema.hpp"

#include <string>

#include "forward/pg_connection.hpp"

namespace trainscope::agent {

namespace {

// Version 1. Keys name the node agent (agent_id) wherever a local number is reused: each
// agent's seq counts per run on that agent alone, so (series_id, seq) is unique because a
// series belongs to one agent.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE trainscope.agents (           -- one node agent (its data dir holds agent_id)
    agent_id     text PRIMARY KEY,
    host         text NOT NULL,
    events_rowid bigint NOT NULL DEFAULT 0, -- local events shipped up to this rowid
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE trainscope.ledger (           -- one row per shipped batch: a retried batch is refused
    agent_id   text NOT NULL,
    batch_seq  bigint NOT NULL,
    points     integer NOT NULL,
    shipped_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, batch_seq)
);
CREATE TABLE trainscope.runs (             -- one per session id, whatever nodes its ranks ran on
    session_id text PRIMARY KEY,
    name       text NOT NULL,
    started_ms double precision NOT NULL,
    config     text,
    model_info text
);
CREATE TABLE trainscope.run_nodes (        -- a run as one node agent saw it
    session_id text NOT NULL,
    agent_id   text NOT NULL,
    host       text NOT NULL,
    pid        bigint NOT NULL,
    status     text NOT NULL,              -- running | finished | failed | crashed
    started_ms double precision NOT NULL,
    ended_ms   double precision,
    last_ms    double precision,
    shipped_seq bigint NOT NULL DEFAULT 0, -- this agent's points of the run with seq <= it are here
    PRIMARY KEY (session_id, agent_id)
);
CREATE TABLE trainscope.series (
    id         bigserial PRIMARY KEY,
    session_id text NOT NULL,
    agent_id   text NOT NULL,
    host       text NOT NULL,
    rank       integer NOT NULL,
    name       text NOT NULL,
    UNIQUE (session_id, agent_id, rank, name)
);
CREATE TABLE trainscope.points (
    series_id bigint NOT NULL,
    seq       bigint NOT NULL,             -- the agent's per-run order of arrival
    step      bigint NOT NULL,
    t_us      bigint NOT NULL,             -- Unix microseconds
    value     double precision,            -- NaN as NaN
    PRIMARY KEY (series_id, seq)
);
CREATE INDEX points_by_step ON trainscope.points (series_id, step);
CREATE TABLE trainscope.latest (           -- each series' newest point, kept per batch
    series_id bigint PRIMARY KEY,
    seq       bigint NOT NULL,
    step      bigint NOT NULL,
    t_us      bigint NOT NULL,
    value     double precision
);
CREATE TABLE trainscope.events (
    agent_id   text NOT NULL,
    local_id   bigint NOT NULL,            -- the rowid in the agent's SQLite
    session_id text NOT NULL,
    host       text NOT NULL,
    rank       integer NOT NULL,
    t_ms       double precision NOT NULL,
    kind       text NOT NULL,
    text       text NOT NULL,
    PRIMARY KEY (agent_id, local_id)
);
CREATE INDEX events_by_run ON trainscope.events (session_id);
CREATE INDEX series_by_run ON trainscope.series (session_id);
CREATE INDEX run_nodes_by_agent ON trainscope.run_nodes (agent_id);
)sql";

// ---- Plugins on the hub (docs/postgres.md, "Plugins on the hub") -------------------------
// A separate block, created if missing whatever the version: the statistics the hub that
// runs the plugins publishes, one row per (run, plugin), read by every hub. (Its derived
// series and alerts need no table of their own: they are shipped like a node's, as agent
// kHubPluginsAgent.)
constexpr const char* kHubPluginTables = R"sql(
CREATE TABLE IF NOT EXISTS trainscope.plugin_stats (
    session_id text NOT NULL,
    plugin     text NOT NULL,
    stats      text NOT NULL,              -- the JSON object the plugin published last
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, plugin)
);
)sql";

}  // namespace

void ensure_pg_schema(PgConnection& pg) {
    pg.exec("BEGIN");
    try {
        // Agents starting together would race on CREATE; the first takes the lock and builds,
        // the others wait and then find the version written.
        pg.exec("SELECT pg_advisory_xact_lock(7070707)");
        pg.exec("CREATE SCHEMA IF NOT EXISTS trainscope");
        pg.exec("CREATE TABLE IF NOT EXISTS trainscope.schema_version (version integer NOT NULL)");
        PgResult r = pg.exec("SELECT max(version) FROM trainscope.schema_version");
        int version = r.is_null(0, 0) ? 0 : static_cast<int>(r.int64(0, 0));
        if (version > kPgSchemaVersion)
            throw PgError("PostgreSQL holds Trainscope schema version " + std::to_string(version) +
                          ", this agent knows up to " + std::to_string(kPgSchemaVersion) +
                          ": upgrade the agent");
        if (version < 1) pg.exec(kVersion1);
        // Later versions: `if (version < 2) pg.exec(kVersion2);` ... each an ALTER of the last.
        pg.exec(kHubPluginTables);
        if (version < kPgSchemaVersion) {
            pg.exec("DELETE FROM trainscope.schema_version");
            pg.exec("INSERT INTO trainscope.schema_version VALUES (" +
                    std::to_string(kPgSchemaVersion) + ")");
        }
        pg.exec("COMMIT");
    } catch (...) {
        try { pg.exec("ROLLBACK"); } catch (const PgError&) {}
        throw;
    }
}

}  // namespace trainscope::agent
