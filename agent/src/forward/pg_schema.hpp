// The PostgreSQL schema node agents ship into (schema "trainscope"), created and migrated by
// whichever agent connects first. Written for a hub to serve from: runs and their nodes, series
// by step range, each series' latest value without a scan, and a NOTIFY per shipped batch.
// The tables are described in docs/postgres.md.
#pragma once

namespace trainscope::agent {

class PgConnection;

/// The schema version this agent writes; a database at a higher version is refused (an older
/// agent must not write into tables it does not know).
constexpr int kPgSchemaVersion = 4;

/// The channel every shipped batch notifies (payload: docs/postgres.md).
constexpr const char* kPgNotifyChannel = "trainscope_points";
/// The channel a hub notifies when a user edits or deletes a run: {"kind", "session_id"}.
constexpr const char* kPgRunsChannel = "trainscope_runs";

/// Creates the schema if missing and brings an older one up to kPgSchemaVersion, in one
/// transaction under an advisory lock (agents that start together do not race); from version
/// 1 that builds the rollups of every point already there (minutes for 100 M points). Throws
/// PgError, or if the database holds a newer version than this agent knows.
void ensure_pg_schema(PgConnection& pg);

}  // namespace trainscope::agent
