// What the serving side asks of a store it cannot reach through RunReader alone: the runs
// table, edits, deletion and /metrics' per-run figures. A node agent does these through its
// collector and SQLite; a hub implements this interface over PostgreSQL (hub/pg_run_admin.hpp).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ingest/collector.hpp"
#include "store/queries.hpp"
#include "store/run_meta.hpp"
#include "store/runs_table.hpp"

namespace trainscope::agent {

class RunAdmin {
public:
    virtual ~RunAdmin() = default;
    /// GET /api/runs/table's rows (the filter's limit applies, its cursor does not).
    virtual RunsTable runs_table(const RunReader::RunFilter& filter, const std::vector<std::string>& metrics) = 0;
    /// Stores an edit checked by parse_run_edit and tells every client (run_updated).
    virtual EditOutcome edit_run(const std::string& session_id, const RunEdit& edit) = 0;
    /// Deletes a run that no node reports running (live: refused) and tells every client.
    virtual RemoveOutcome remove_run(const std::string& session_id) = 0;
    /// As Queries::runs_active_since and Queries::latest_values, for /metrics.
    virtual std::vector<RunInfo> runs_active_since(double since_ms) = 0;
    virtual std::vector<Queries::LatestValue> latest_values(const std::string& session_id, std::int64_t limit) = 0;
    /// Figures of the store's own for /metrics (a hub's connections, ...).
    virtual void write_metrics(std::ostream& out) = 0;
};

}  // namespace trainscope::agent
