#include "forward/pg_schema.hpp"

#include <string>

#include "forward/pg_connection.hpp"
#include "forward/pg_rollups.hpp"

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

// Version 2: level-of-detail rollups (the node's levels and buckets, docs/store.md), kept by
// every batch (forward/pg_rollups.hpp); built here from the points a version-1 database holds.
// Also the index the newest-run lookup orders by.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE trainscope.rollups (          -- per series, buckets of 2^level steps
    series_id bigint NOT NULL,
    level     integer NOT NULL,            -- 6, 9, 12, 15, 18
    bucket    bigint NOT NULL,             -- step >> level
    count     bigint NOT NULL,             -- points, NaN and Inf included
    nonfinite bigint NOT NULL,             -- NaN and Inf points (out of min, max and sum)
    sum       double precision NOT NULL,   -- of the finite values
    seq_lo    bigint NOT NULL,             -- seq span of its points
    seq_hi    bigint NOT NULL,
    first_seq bigint NOT NULL, first_step bigint NOT NULL, first_t_us bigint NOT NULL, first_value double precision NOT NULL,
    last_seq  bigint NOT NULL, last_step  bigint NOT NULL, last_t_us  bigint NOT NULL, last_value  double precision NOT NULL,
    min_seq   bigint, min_step bigint, min_t_us bigint, min_value double precision,  -- NULL: no finite point
    max_seq   bigint, max_step bigint, max_t_us bigint, max_value double precision,
    nf_seq    bigint, nf_step  bigint, nf_t_us  bigint, nf_value  double precision,  -- earliest NaN/Inf
    PRIMARY KEY (series_id, level, bucket)
);
CREATE INDEX IF NOT EXISTS runs_by_start ON trainscope.runs (started_ms, session_id COLLATE "C");
)sql";

// Version 4: what the hub writes and the hub's seq of a point (docs/postgres.md, "The hub").
// Each block only adds, so the order they run in does not matter.
//  - run_meta: the user's name, notes and tags of a run (PATCH on any hub), as on a node.
//  - deleted_runs: runs a hub deleted; a node that still holds one in its spool would ship it
//    again after a restart (it reads what it shipped from run_nodes), so the runs row of a
//    deleted run is refused by a trigger and the run stays gone. run_nodes rows are kept:
//    they tell the node its points are shipped.
//  - run_seq_map: the hub's seq. A run's hub seq is the sum of its nodes' shipped_seq; each
//    rise of one node's shipped_seq takes the next range of it, numbered under a per-run lock
//    in the shipping transaction (trigger below), so commit order is numbering order and
//    every hub maps a hub seq back to (agent, the agent's seq) the same way.
constexpr const char* kVersion4Hub = R"sql(
CREATE TABLE trainscope.run_meta (
    session_id text PRIMARY KEY,
    name       text,                       -- NULL: the trainer's name (runs.name)
    notes      text NOT NULL DEFAULT '',
    tags       text NOT NULL DEFAULT ''    -- space-separated
);
CREATE TABLE trainscope.deleted_runs (
    session_id text PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE trainscope.run_seq_map (
    session_id    text NOT NULL,
    run_seq_to    bigint NOT NULL,         -- this range is (run_seq_to - points, run_seq_to]
    run_seq_from  bigint NOT NULL,
    agent_id      text NOT NULL,
    node_seq_from bigint NOT NULL,         -- the agent's seq just before the range
    PRIMARY KEY (session_id, run_seq_to)
);
CREATE FUNCTION trainscope.number_shipped_range() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before_seq bigint := 0;
    total bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN before_seq := OLD.shipped_seq; END IF;
    IF NEW.shipped_seq <= before_seq THEN RETURN NULL; END IF;
    -- One numbering at a time per run, held to COMMIT: ranges commit in the order numbered.
    PERFORM pg_advisory_xact_lock(70707, hashtext(NEW.session_id));
    SELECT sum(shipped_seq) INTO total FROM trainscope.run_nodes WHERE session_id = NEW.session_id;
    INSERT INTO trainscope.run_seq_map VALUES
        (NEW.session_id, total, total - (NEW.shipped_seq - before_seq), NEW.agent_id, before_seq);
    RETURN NULL;
END $$;
CREATE TRIGGER number_shipped_range AFTER INSERT OR UPDATE OF shipped_seq ON trainscope.run_nodes
    FOR EACH ROW EXECUTE FUNCTION trainscope.number_shipped_range();
CREATE FUNCTION trainscope.refuse_deleted_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM trainscope.deleted_runs WHERE session_id = NEW.session_id) THEN
        RETURN NULL;                           -- skipped: the run was deleted on a hub
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_deleted_run BEFORE INSERT ON trainscope.runs
    FOR EACH ROW EXECUTE FUNCTION trainscope.refuse_deleted_run();
-- Runs shipped before this version: one range per node, in agent order.
INSERT INTO trainscope.run_seq_map
    SELECT session_id, total, total - shipped_seq, agent_id, 0 FROM (
        SELECT session_id, agent_id, shipped_seq,
               sum(shipped_seq) OVER (PARTITION BY session_id ORDER BY agent_id) AS total
        FROM trainscope.run_nodes WHERE shipped_seq > 0) x;
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
        if (pg.exec("SELECT to_regclass('trainscope.rollups') IS NULL").text(0, 0) == "t") {
            // Block 2, by presence rather than version: a database may have reached a later
            // version without it (the blocks came from parallel branches; each only adds). The
            // table is created and filled in one transaction, so present means complete.
            pg.exec(kVersion2);
            build_pg_rollups(pg);  // nothing to read on a new database
        }
        if (version < 4) pg.exec(kVersion4Hub);
        pg.exec(kHubPluginTables);  // IF NOT EXISTS throughout
        // Later blocks: `if (version < 5) pg.exec(kVersion5);` ... each only adds.
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
