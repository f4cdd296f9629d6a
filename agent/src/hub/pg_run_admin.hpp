// The hub's side of RunAdmin (serve/run_admin.hpp) over PostgreSQL: the runs table, a user's
// edits (table run_meta) and deletions (deleted_runs), each told to every hub's WebSocket
// clients by one NOTIFY on trainscope_runs in the same transaction, and /metrics' figures
// from the latest table. Holds nothing between calls: any hub may answer any request.
#pragma once

#include "serve/run_admin.hpp"

namespace trainscope::agent {

class PgPool;
class PgListener;

class PgRunAdmin : public RunAdmin {
public:
    /// Both outlive the admin; `listener` may be null (its health is then not reported).
    PgRunAdmin(PgPool& pool, const PgListener* listener) : pool_(pool), listener_(listener) {}

    RunsTable runs_table(const RunReader::RunFilter& filter, const std::vector<std::string>& metrics) override;
    EditOutcome edit_run(const std::string& session_id, const RunEdit& edit) override;
    RemoveOutcome remove_run(const std::string& session_id) override;
    std::vector<RunInfo> runs_active_since(double since_ms) override;
    std::vector<Queries::LatestValue> latest_values(const std::string& session_id, std::int64_t limit) override;
    void write_metrics(std::ostream& out) override;

private:
    PgPool& pool_;
    const PgListener* listener_;
};

/// `values` as one PostgreSQL text[] literal ({"a","b"}, quotes and backslashes escaped).
std::string pg_text_array(const std::vector<std::string>& values);

}  // namespace trainscope::agent
