#include "hub/pg_run_admin.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "hub/pg_listener.hpp"
#include "hub/pg_pool.hpp"
#include "hub/pg_reader.hpp"
#include "hub/pg_series_figures.hpp"

namespace trainscope::agent {

namespace {

/// The trainscope_runs payload: {"kind", "session_id"} (ids are short; well under 8 KB).
std::string run_event_payload(const char* kind, const std::string& session_id) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("kind"); w.String(kind);
    w.Key("session_id"); w.String(session_id.c_str(), static_cast<rapidjson::SizeType>(session_id.size()));
    w.EndObject();
    return buf.GetString();
}

/// Runs `work` in one transaction; rolls back if it throws or returns false.
template <typename Work>
bool in_transaction(PgConnection& pg, Work&& work) {
    pg.exec("BEGIN");
    try {
        if (!work()) {
            pg.exec("ROLLBACK");
            return false;
        }
        pg.exec("COMMIT");
        return true;
    } catch (...) {
        try { if (pg.ok()) pg.exec("ROLLBACK"); } catch (const PgError&) {}
        throw;
    }
}

/// Locks the run's row for the transaction; false if there is none (unknown or deleted).
bool lock_run(PgConnection& pg, const std::string& session_id) {
    return pg.exec("SELECT 1 FROM trainscope.runs WHERE session_id = $1 FOR UPDATE", {session_id}).rows() == 1;
}

}  // namespace

std::string pg_text_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (const std::string& v : values) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + '}';
}

RunsTable PgRunAdmin::runs_table(const RunReader::RunFilter& filter, const std::vector<std::string>& metrics) {
    RunsTable table;
    {
        // The rows as the run list reads them (names from run_meta, ranks, the same filter).
        PgReader reader(pool_);
        RunReader::RunFilter page_filter = filter;
        page_filter.after.reset();
        RunReader::RunPage page = reader.run_page(page_filter);
        table.more = page.more;
        for (RunInfo& run : page.runs) {
            RunsTableRow row;
            row.run = std::move(run);
            row.figures.resize(metrics.size());
            table.rows.push_back(std::move(row));
        }
    }
    PgPool::Lease pg = pool_.lease();
    PgResult names = pg->exec("SELECT DISTINCT name COLLATE \"C\" FROM trainscope.series ORDER BY 1");
    for (int i = 0; i < names.rows(); ++i) table.metric_names.push_back(names.text(i, 0));
    if (table.rows.empty()) return table;

    std::vector<std::string> ids;
    std::map<std::string, std::size_t> index;
    for (std::size_t k = 0; k < table.rows.size(); ++k) {
        ids.push_back(table.rows[k].run.session_id);
        index[ids.back()] = k;
    }
    std::string id_array = pg_text_array(ids);
    PgResult configs = pg->exec("SELECT session_id, COALESCE(config, '') FROM trainscope.runs "
                                "WHERE session_id = ANY($1::text[])",
                                {id_array});
    for (int i = 0; i < configs.rows(); ++i) table.rows[index[configs.text(i, 0)]].config = configs.text(i, 1);

    // Each run's lowest rank's series of each metric: its newest point from `latest`, its best
    // (finite) and its count from the coarsest rollup level: one statement, no scan of points.
    std::vector<std::vector<MetricFigures>> figures = pg_series_figures(*pg, ids, metrics);
    for (std::size_t k = 0; k < ids.size(); ++k) table.rows[k].figures = std::move(figures[k]);
    return table;
}

EditOutcome PgRunAdmin::edit_run(const std::string& session_id, const RunEdit& edit) {
    PgPool::Lease pg = pool_.lease();
    bool known = in_transaction(*pg, [&] {
        if (!lock_run(*pg, session_id)) return false;
        pg->exec("INSERT INTO trainscope.run_meta (session_id) VALUES ($1) ON CONFLICT DO NOTHING", {session_id});
        if (edit.name)
            pg->exec("UPDATE trainscope.run_meta SET name = $2 WHERE session_id = $1",
                     {session_id, edit.name->empty() ? std::nullopt : std::optional<std::string>(*edit.name)});
        if (edit.notes)
            pg->exec("UPDATE trainscope.run_meta SET notes = $2 WHERE session_id = $1", {session_id, *edit.notes});
        if (edit.tags)
            pg->exec("UPDATE trainscope.run_meta SET tags = $2 WHERE session_id = $1",
                     {session_id, join_tags(*edit.tags)});
        // Delivered at COMMIT to every hub, this one included.
        pg->exec("SELECT pg_notify($1, $2)", {std::string(kPgRunsChannel), run_event_payload("run_updated", session_id)});
        return true;
    });
    return known ? EditOutcome::updated : EditOutcome::unknown;
}

RemoveOutcome PgRunAdmin::remove_run(const std::string& session_id) {
    PgPool::Lease pg = pool_.lease();
    RemoveOutcome outcome = RemoveOutcome::removed;
    in_transaction(*pg, [&] {
        if (!lock_run(*pg, session_id)) {
            outcome = RemoveOutcome::unknown;
            return false;
        }
        if (pg->exec("SELECT 1 FROM trainscope.run_nodes WHERE session_id = $1 AND status = 'running' LIMIT 1",
                     {session_id}).rows()) {
            outcome = RemoveOutcome::live;
            return false;
        }
        // The tombstone first: from now on a node's re-sent runs row is refused (trigger).
        pg->exec("INSERT INTO trainscope.deleted_runs (session_id) VALUES ($1) ON CONFLICT DO NOTHING", {session_id});
        for (const char* table : {"points", "latest", "rollups"})
            pg->exec(std::string("DELETE FROM trainscope.") + table +
                         " WHERE series_id IN (SELECT id FROM trainscope.series WHERE session_id = $1)",
                     {session_id});
        for (const char* table : {"series", "events", "run_meta", "run_seq_map", "plugin_stats", "runs"})
            pg->exec(std::string("DELETE FROM trainscope.") + table + " WHERE session_id = $1", {session_id});
        // run_nodes rows stay: they tell each node its points are shipped (postgres.md).
        pg->exec("SELECT pg_notify($1, $2)", {std::string(kPgRunsChannel), run_event_payload("run_deleted", session_id)});
        return true;
    });
    return outcome;
}

std::vector<RunInfo> PgRunAdmin::runs_active_since(double since_ms) {
    PgPool::Lease pg = pool_.lease();
    PgResult r = pg->exec(
        "SELECT r.session_id, COALESCE(m.name, r.name), bool_or(n.status = 'running'), sum(n.shipped_seq) "
        "FROM trainscope.runs r JOIN trainscope.run_nodes n USING (session_id) "
        "LEFT JOIN trainscope.run_meta m USING (session_id) GROUP BY r.session_id, r.name, m.name, r.started_ms "
        "HAVING bool_or(n.status = 'running') OR max(COALESCE(n.ended_ms, n.last_ms, n.started_ms)) >= $1::float8 "
        "ORDER BY r.started_ms DESC, r.session_id COLLATE \"C\" DESC",
        {std::to_string(since_ms)});
    std::vector<RunInfo> out;
    for (int i = 0; i < r.rows(); ++i) {
        RunInfo run;
        run.session_id = r.text(i, 0);
        run.name = r.text(i, 1);
        run.status = r.text(i, 2) == "t" ? "running" : "ended";
        run.points = run.last_seq = r.int64(i, 3);
        out.push_back(std::move(run));
    }
    return out;
}

std::vector<Queries::LatestValue> PgRunAdmin::latest_values(const std::string& session_id, std::int64_t limit) {
    PgPool::Lease pg = pool_.lease();
    // One row per series from `latest` (kept per shipped batch): no scan of points.
    PgResult r = pg->exec("SELECT s.name, s.rank, l.step, l.value FROM trainscope.series s "
                          "JOIN trainscope.latest l ON l.series_id = s.id WHERE s.session_id = $1 "
                          "ORDER BY s.name COLLATE \"C\", s.rank, s.id LIMIT $2",
                          {session_id, std::to_string(limit)});
    std::vector<Queries::LatestValue> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.text(i, 0), static_cast<int>(r.int64(i, 1)), r.int64(i, 2),
                       pg_double(r.text(i, 3), r.is_null(i, 3))});
    return out;
}

void PgRunAdmin::write_metrics(std::ostream& out) {
    PgPool::Stats s = pool_.stats();
    if (listener_)
        out << "# HELP trainscope_hub_postgres_ok 1 while the hub's live link to PostgreSQL is up.\n"
               "# TYPE trainscope_hub_postgres_ok gauge\n"
            << "trainscope_hub_postgres_ok " << (listener_->health().ok ? 1 : 0) << "\n";
    out << "# HELP trainscope_hub_pg_connections The hub's pooled PostgreSQL connections (requests and WebSocket clients).\n"
           "# TYPE trainscope_hub_pg_connections gauge\n"
        << "trainscope_hub_pg_connections{state=\"open\"} " << s.open << "\n"
        << "trainscope_hub_pg_connections{state=\"leased\"} " << s.leased << "\n"
        << "# HELP trainscope_hub_pg_connections_max The pool's bound (--hub-connections).\n"
           "# TYPE trainscope_hub_pg_connections_max gauge\n"
        << "trainscope_hub_pg_connections_max " << s.max << "\n"
        << "# HELP trainscope_hub_pg_pool_exhausted_total Requests refused because every pooled connection was busy.\n"
           "# TYPE trainscope_hub_pg_pool_exhausted_total counter\n"
        << "trainscope_hub_pg_pool_exhausted_total " << s.exhausted << "\n";
}

}  // namespace trainscope::agent
