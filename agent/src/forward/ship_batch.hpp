// One batch as it goes into PostgreSQL: points (already mapped to PostgreSQL series ids), the
// runs it touches with their new shipped positions, events, and the NOTIFY payload. write_batch
// puts all of it in one transaction with the ledger row (agent_id, batch_seq): the ledger's
// primary key makes a batch that was already committed a no-op, whatever the caller believed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace trainscope::agent {

class PgConnection;

struct PgPointRow {
    std::int64_t series_id;  ///< trainscope.series.id
    std::int64_t seq;
    std::int64_t step;
    std::int64_t t_us;
    double value;
};

/// A run as this agent ships it: its node row always, its shared row only when `shared_row`.
struct PgRunRow {
    std::string session_id;
    std::string name;
    std::string status;
    std::int64_t pid = 0;
    double started_ms = 0;
    double ended_ms = -1;  ///< -1: NULL
    double last_ms = -1;   ///< -1: NULL
    std::int64_t shipped_seq = 0;
    bool shared_row = false;  ///< upsert trainscope.runs too (new run, or config/model changed)
    std::optional<std::string> config;
    std::optional<std::string> model_info;
};

struct PgEventRow {
    std::int64_t local_id;
    std::string session_id;
    int rank;
    double t_ms;
    std::string kind;
    std::string text;
};

struct ShipBatch {
    std::string agent_id;
    std::string host;
    std::int64_t batch_seq = 0;
    std::vector<PgPointRow> points;
    std::vector<PgRunRow> runs;          ///< sorted by session_id (one lock order for all agents)
    std::vector<PgEventRow> events;
    std::int64_t events_rowid = -1;      ///< the agent's new events cursor; -1: unchanged
    std::string notify_payload;          ///< JSON, well under PostgreSQL's 8000-byte limit
    bool empty() const { return points.empty() && runs.empty() && events.empty(); }
};

/// Commits the batch, the ledger row and one NOTIFY in one transaction. False, with nothing
/// changed, if the ledger already holds (agent_id, batch_seq). Throws PgError (rolled back).
bool write_batch(PgConnection& pg, const ShipBatch& batch);

/// The NOTIFY payload for a batch: agent, host, batch, points and each run's shipped seq
/// (runs are left out past a size that would approach the limit; "more": true says so).
std::string notify_payload(const ShipBatch& batch);

}  // namespace trainscope::agent
