#include "hub/pg_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>

#include "forward/pg_connection.hpp"
#include "hub/pg_pool.hpp"
#include "store/downsample.hpp"
#include "store/run_meta.hpp"

namespace trainscope::agent {

namespace {

/// One row per run, its nodes combined: running while any node runs, else the worst of
/// crashed > failed > finished; hosts joined by ","; ended when the last node ended. The
/// "node" hub-plugins (kHubPluginsAgent, hub_plugins.hpp: derived series) names no host or pid.
constexpr const char* kRunSummary =
    "SELECT * FROM (SELECT r.session_id, COALESCE(m.name, r.name) AS name, r.started_ms, "
    "CASE WHEN bool_or(n.status = 'running') THEN 'running' "
    "WHEN bool_or(n.status = 'crashed') THEN 'crashed' "
    "WHEN bool_or(n.status = 'failed') THEN 'failed' ELSE 'finished' END AS status, "
    "string_agg(DISTINCT n.host, ',') FILTER (WHERE n.agent_id <> 'hub-plugins') AS hosts, "
    "min(n.pid) FILTER (WHERE n.agent_id <> 'hub-plugins') AS pid, "
    "CASE WHEN bool_or(n.status = 'running') THEN NULL ELSE max(n.ended_ms) END AS ended_ms, "
    "max(n.last_ms) AS last_ms, sum(n.shipped_seq) AS seq, "
    // What a user said about the run (run_meta, written by PATCH on any hub).
    "r.name AS original_name, COALESCE(m.notes, '') AS notes, COALESCE(m.tags, '') AS tags "
    "FROM trainscope.runs r JOIN trainscope.run_nodes n USING (session_id) "
    "LEFT JOIN trainscope.run_meta m USING (session_id) "
    "GROUP BY r.session_id, r.name, r.started_ms, m.name, m.notes, m.tags) x ";

RunInfo read_run(const PgResult& r, int row) {
    RunInfo run;
    run.session_id = r.text(row, 0);
    run.name = r.text(row, 1);
    run.original_name = r.text(row, 9);
    run.notes = r.text(row, 10);
    run.tags = split_tags(r.text(row, 11));
    run.started_ms = pg_double(r.text(row, 2), false);
    run.status = r.text(row, 3);
    run.host = r.text(row, 4);
    run.pid = r.int64(row, 5);
    run.ended_ms = r.is_null(row, 6) ? 0 : pg_double(r.text(row, 6), false);
    run.last_ms = r.is_null(row, 7) ? 0 : pg_double(r.text(row, 7), false);
    run.last_seq = r.int64(row, 8);
    run.points = run.last_seq;  // every shipped point took the next seq of its node
    return run;
}

std::string double_text(double v) {
    std::string out;
    append_double(out, v);
    return out;
}

StoredPoint read_point(const PgResult& r, int row) {
    return StoredPoint{r.int64(row, 0), r.int64(row, 1), static_cast<double>(r.int64(row, 2)) / 1000.0,
                       pg_double(r.text(row, 3), r.is_null(row, 3))};
}

}  // namespace

double pg_double(const std::string& text, bool is_null) {
    if (is_null) return std::numeric_limits<double>::quiet_NaN();
    return std::strtod(text.c_str(), nullptr);  // reads "NaN", "Infinity", "-Infinity" too
}

PgReader::PgReader(PgPool& pool) : pool_(pool) {}
PgReader::~PgReader() = default;

PgReader::Use::Use(PgReader& r) : reader(r) {
    if (r.pg_) return;  // a call inside another call: the outer one holds the lease
    r.lease_.emplace(r.pool_.lease());
    r.pg_ = &**r.lease_;
    owner = true;
}

PgReader::Use::~Use() {
    if (!owner) return;
    reader.pg_ = nullptr;
    reader.lease_.reset();
}

std::vector<RunInfo> PgReader::select_runs(const RunFilter& filter, std::int64_t limit) {
    // Session ids compare bytewise (COLLATE "C"), as the cursor and SQLite's order do.
    std::string sql = std::string(kRunSummary) +
                      "WHERE ($1 = '' OR status = $1) "
                      "AND ($2 = '' OR strpos(lower(name || chr(10) || original_name || chr(10) || notes || chr(10) || "
                      "tags || chr(10) || session_id), lower($2)) > 0) "
                      "AND ($3::float8 IS NULL OR (started_ms, session_id COLLATE \"C\") < ($3::float8, $4 COLLATE \"C\")) "
                      "ORDER BY started_ms DESC, session_id COLLATE \"C\" DESC LIMIT $5";
    std::optional<std::string> after_ms, after_id;
    if (filter.after) {
        after_ms = double_text(filter.after->first);
        after_id = filter.after->second;
    }
    PgResult r = pg_->exec(sql, {filter.status, filter.text, after_ms, after_id, std::to_string(limit)});
    std::vector<RunInfo> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_run(r, i));
    return out;
}

void PgReader::fill_details(std::vector<RunInfo>& runs) {
    if (runs.empty()) return;
    // The ids as one text[] literal: {"id","id"}, quotes and backslashes escaped.
    std::string ids = "{";
    std::map<std::string, RunInfo*> by_id;
    for (RunInfo& run : runs) {
        if (ids.size() > 1) ids += ',';
        ids += '"';
        for (char c : run.session_id) {
            if (c == '"' || c == '\\') ids += '\\';
            ids += c;
        }
        ids += '"';
        by_id[run.session_id] = &run;
    }
    ids += '}';
    PgResult r = pg_->exec("SELECT DISTINCT session_id, name, rank FROM trainscope.series "
                           "WHERE session_id = ANY($1::text[])",
                           {ids});
    for (int i = 0; i < r.rows(); ++i) {
        auto it = by_id.find(r.text(i, 0));
        if (it == by_id.end()) continue;
        it->second->metrics.push_back(r.text(i, 1));
        it->second->ranks.push_back(static_cast<int>(r.int64(i, 2)));
    }
    for (RunInfo& run : runs) {
        std::sort(run.ranks.begin(), run.ranks.end());
        run.ranks.erase(std::unique(run.ranks.begin(), run.ranks.end()), run.ranks.end());
        std::sort(run.metrics.begin(), run.metrics.end());
        run.metrics.erase(std::unique(run.metrics.begin(), run.metrics.end()), run.metrics.end());
    }
}

RunReader::RunPage PgReader::run_page(const RunFilter& filter) {
    Use use(*this);
    RunPage page;
    page.runs = select_runs(filter, filter.limit + 1);
    if (static_cast<std::int64_t>(page.runs.size()) > filter.limit) {
        page.more = true;
        page.runs.pop_back();
    }
    fill_details(page.runs);
    return page;
}

std::optional<RunInfo> PgReader::run(const std::string& session_id) {
    Use use(*this);
    PgResult r = pg_->exec(std::string(kRunSummary) + "WHERE session_id = $1", {session_id});
    if (r.rows() == 0) return std::nullopt;
    std::vector<RunInfo> one{read_run(r, 0)};
    fill_details(one);
    return one.front();
}

std::optional<std::int64_t> PgReader::last_seq(const std::string& session_id) {
    Use use(*this);
    // A run deleted on a hub keeps its run_nodes rows (postgres.md) but not its runs row.
    PgResult r = pg_->exec("SELECT sum(shipped_seq) FROM trainscope.run_nodes WHERE session_id = $1 "
                           "AND EXISTS (SELECT 1 FROM trainscope.runs WHERE session_id = $1)",
                           {session_id});
    if (r.is_null(0, 0)) return std::nullopt;
    return r.int64(0, 0);
}

std::int64_t PgReader::run_count() {
    Use use(*this);
    return pg_->exec("SELECT count(*) FROM trainscope.runs").int64(0, 0);
}

std::optional<std::string> PgReader::newest_session() {
    Use use(*this);
    PgResult r = pg_->exec(
        "SELECT session_id FROM trainscope.runs ORDER BY started_ms DESC, session_id COLLATE \"C\" DESC LIMIT 1");
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
}

std::optional<std::string> PgReader::run_text(const std::string& session_id, const char* column) {
    Use use(*this);
    std::string name = column;
    if (name != "config" && name != "model_info") return std::nullopt;
    PgResult r = pg_->exec("SELECT COALESCE(" + name + ", '') FROM trainscope.runs WHERE session_id = $1", {session_id});
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
}

SeriesResult PgReader::series(const SeriesRequest& req, const std::function<void(const SeriesResult&)>& head,
                              const std::function<void(const StoredPoint&)>& point) {
    Use use(*this);
    SeriesResult result;
    // One snapshot: the figures, the points and the run's seq agree.
    pg_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    struct EndRead {
        PgConnection& pg;
        ~EndRead() { PQclear(PQexec(pg.handle(), "ROLLBACK")); }
    } end_read{*pg_};
    PgResult find = req.rank >= 0
                        ? pg_->exec("SELECT id, rank FROM trainscope.series WHERE session_id = $1 AND name = $2 "
                                    "AND rank = $3 ORDER BY id LIMIT 1",
                                    {req.session_id, req.metric, std::to_string(req.rank)})
                        : pg_->exec("SELECT id, rank FROM trainscope.series WHERE session_id = $1 AND name = $2 "
                                    "ORDER BY rank, id LIMIT 1",
                                    {req.session_id, req.metric});
    if (find.rows() == 0) return result;
    result.found = true;
    std::string series = find.text(0, 0);
    result.rank = static_cast<int>(find.int64(0, 1));
    result.seq = last_seq(req.session_id).value_or(0);

    if (req.last_only) {
        PgResult newest = pg_->exec("SELECT seq, step, t_us, value FROM trainscope.latest WHERE series_id = $1", {series});
        result.total = newest.rows();
        head(result);
        if (newest.rows()) point(read_point(newest, 0));
        return result;
    }

    // The (series_id, step) index answers all three figures without reading the rows.
    std::string from = std::to_string(req.from), to = std::to_string(req.to);
    PgResult bounds = pg_->exec(
        "SELECT min(step), max(step), (SELECT count(*) FROM trainscope.points WHERE series_id = $1 "
        "AND step BETWEEN $2 AND $3) FROM trainscope.points WHERE series_id = $1",
        {series, from, to});
    result.total = bounds.int64(0, 2);
    result.downsampled = static_cast<std::size_t>(result.total) > req.max_points;
    head(result);
    if (result.total == 0) return result;

    // Streamed through a cursor, a slice at a time: a long range never sits whole in memory.
    // The envelope spans the request clamped to the series' steps, as the agent's does.
    std::optional<MinMaxBuckets> buckets;
    if (result.downsampled)
        buckets.emplace(std::max(req.from, bounds.int64(0, 0)), std::min(req.to, bounds.int64(0, 1)),
                        std::min(req.max_points, kMaxDownsampledPoints));
    pg_->exec("DECLARE range_rows NO SCROLL CURSOR FOR SELECT seq, step, t_us, value FROM trainscope.points "
              "WHERE series_id = $1 AND step BETWEEN $2 AND $3 ORDER BY step, seq",
              {series, from, to});
    for (;;) {
        PgResult rows = pg_->exec("FETCH 20000 FROM range_rows");
        for (int i = 0; i < rows.rows(); ++i) {
            StoredPoint p = read_point(rows, i);
            if (buckets) buckets->add(p); else point(p);
        }
        if (rows.rows() < 20000) break;
    }
    if (buckets)
        for (const StoredPoint& p : buckets->take()) point(p);
    return result;
}

std::vector<RunEvent> PgReader::events(const std::string& session_id) {
    Use use(*this);
    PgResult r = pg_->exec("SELECT rank, t_ms, kind, text FROM trainscope.events WHERE session_id = $1 "
                           "ORDER BY t_ms, agent_id, local_id",
                           {session_id});
    std::vector<RunEvent> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(RunEvent{r.int64(i, 0), pg_double(r.text(i, 1), false), r.text(i, 2), r.text(i, 3)});
    return out;
}


}  // namespace trainscope::agent
