// The hub's reader: runs and series of every node, from the PostgreSQL node agents ship to
// (docs/postgres.md, "What a hub reads"). One reader per request or WebSocket client; each
// call leases a connection from the hub's pool (pg_pool.hpp) for its duration only. The hub
// keeps no state of its own, so several hubs may serve one database.
//
// A run's seq on the hub is the sum of its nodes' shipped_seq: it only grows, every hub
// computes the same figure, and run_seq_map (pg_schema.cpp) says which node's points each
// range of it holds, so the live listener (pg_listener.hpp) and a replay (points_since)
// number every point the same way on every hub.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "hub/pg_pool.hpp"

#include "store/run_reader.hpp"
#include "store/runs_table.hpp"

namespace trainscope::agent {

class PgConnection;

class PgReader : public RunReader {
public:
    /// Leases connections from `pool` (which outlives the reader) call by call.
    explicit PgReader(PgPool& pool);
    ~PgReader() override;

    RunPage run_page(const RunFilter& filter) override;
    std::optional<RunInfo> run(const std::string& session_id) override;
    std::optional<std::int64_t> last_seq(const std::string& session_id) override;
    std::int64_t run_count() override;
    std::optional<std::string> newest_session() override;
    std::optional<std::string> run_text(const std::string& session_id, const char* column) override;
    SeriesResult series(const SeriesRequest& request, const std::function<void(const SeriesResult&)>& head,
                        const std::function<void(const StoredPoint&)>& point) override;
    std::vector<RunEvent> events(const std::string& session_id) override;
    /// The runs table's figures of `metrics` in each run, one statement (hub/pg_series_figures.hpp).
    std::vector<std::vector<MetricFigures>> series_figures(const std::vector<std::string>& session_ids,
                                                           const std::vector<std::string>& metrics);
    /// Through run_seq_map: the node ranges overlapping (since, upto], their points
    /// numbered on the hub's scale (pg_seq_map.cpp).
    std::vector<SeriesUpdate> points_since(const std::string& session_id, std::int64_t since,
                                           std::int64_t upto) override;

private:
    /// A `?last=1` request: the series' newest point from trainscope.latest, one statement.
    SeriesResult latest(const SeriesRequest& request, const std::function<void(const SeriesResult&)>& head,
                        const std::function<void(const StoredPoint&)>& point);
    std::vector<RunInfo> select_runs(const RunFilter& filter, std::int64_t limit);
    /// Ranks and metrics of each run, in one query for all of them.
    void fill_details(std::vector<RunInfo>& runs);
    /// Holds a leased connection in pg_ for one public call (nested calls share it).
    struct Use {
        explicit Use(PgReader& r);
        ~Use();
        PgReader& reader;
        bool owner = false;
    };
    PgPool& pool_;
    std::optional<PgPool::Lease> lease_;
    PgConnection* pg_ = nullptr;
};

/// A value as PostgreSQL's text output writes a double ("NaN", "Infinity" ...); NULL is NaN.
double pg_double(const std::string& text, bool is_null);

}  // namespace trainscope::agent
