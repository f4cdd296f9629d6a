// The hub's reader: runs and series of every node, from the PostgreSQL node agents ship to
// (docs/postgres.md, "What a hub reads"). One reader per request, with its own connection;
// the hub keeps no state of its own, so several hubs may serve one database.
//
// A run's seq on the hub is the sum of its nodes' shipped_seq: it only grows, every hub
// computes the same figure, and the live listener (pg_listener.hpp) numbers pushed points
// on the same scale, so a client can tell which pushed points a series answer already held.
#pragma once

#include <memory>
#include <string>

#include "store/run_reader.hpp"
#include "store/runs_table.hpp"

namespace trainscope::agent {

class PgConnection;

class PgReader : public RunReader {
public:
    /// Connects (libpq URI or key=value string); throws PgError.
    explicit PgReader(const std::string& conninfo);
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
    /// Always empty: the hub cannot map its seq back to rows, so a client that fell behind
    /// gets what is pushed from now on (the page re-reads the series on reconnect).
    std::vector<SeriesUpdate> points_since(const std::string& session_id, std::int64_t since,
                                           std::int64_t upto) override;

private:
    /// A `?last=1` request: the series' newest point from trainscope.latest, one statement.
    SeriesResult latest(const SeriesRequest& request, const std::function<void(const SeriesResult&)>& head,
                        const std::function<void(const StoredPoint&)>& point);
    std::vector<RunInfo> select_runs(const RunFilter& filter, std::int64_t limit);
    /// Ranks and metrics of each run, in one query for all of them.
    void fill_details(std::vector<RunInfo>& runs);
    std::unique_ptr<PgConnection> pg_;
};

/// A value as PostgreSQL's text output writes a double ("NaN", "Infinity" ...); NULL is NaN.
double pg_double(const std::string& text, bool is_null);

}  // namespace trainscope::agent
