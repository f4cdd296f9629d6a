#include "hub/pg_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>

#include "forward/pg_connection.hpp"
#include "hub/pg_pool.hpp"
#include "hub/pg_rollup_read.hpp"
#include "hub/pg_series_figures.hpp"
#include "store/downsample.hpp"
#include "store/rollups.hpp"
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

/// Whether an envelope of `budget` points over steps [from, to] has buckets narrower than the
/// finest rollup level (MinMaxBuckets' choice: the smallest power of two giving at most
/// (budget - 2) / 2 buckets); then so has one over any part of the range. Wide arithmetic:
/// the whole int64 range is a valid request.
bool envelope_narrower_than_rollups(std::int64_t from, std::int64_t to, std::size_t budget) {
    std::size_t n = budget >= 4 ? (budget - 2) / 2 : 0;
    int bits = kRollupLevels.front() - 1;
    __int128 buckets = (__int128(to) >> bits) - (__int128(from) >> bits) + 1;
    return n > 0 && from <= to && buckets <= static_cast<__int128>(n);
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
    if (req.last_only) return latest(req, head, point);
    SeriesResult result;
    // One snapshot: the figures, the points and the run's seq agree.
    pg_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    struct EndRead {
        PgConnection& pg;
        ~EndRead() { PQclear(PQexec(pg.handle(), "ROLLBACK")); }
    } end_read{*pg_};
    // Each statement is a round trip (a millisecond on a busy machine): the run's seq comes
    // with the series, the range's count with the bounds when the range is too narrow for
    // rollups, and a range that fits in one slice without a cursor.
    std::string find_sql =
        "SELECT id, rank, (SELECT sum(shipped_seq) FROM trainscope.run_nodes WHERE session_id = $1) "
        "FROM trainscope.series WHERE session_id = $1 AND name = $2 ";
    PgResult find = req.rank >= 0 ? pg_->exec(find_sql + "AND rank = $3 ORDER BY id LIMIT 1",
                                              {req.session_id, req.metric, std::to_string(req.rank)})
                                  : pg_->exec(find_sql + "ORDER BY rank, id LIMIT 1", {req.session_id, req.metric});
    if (find.rows() == 0) return result;
    result.found = true;
    std::string series = find.text(0, 0);
    result.rank = static_cast<int>(find.int64(0, 1));
    result.seq = find.is_null(0, 2) ? 0 : find.int64(0, 2);

    // The series' step bounds: two descents of the (series_id, step) index. The envelope spans
    // the request clamped to them, as on a node. Its buckets are no wider than the unclamped
    // request's: if those are narrower than the finest rollup, rollups cannot answer and the
    // range's count is needed (read by the same index, in the same statement).
    std::size_t budget = std::min(req.max_points, kMaxDownsampledPoints);
    bool narrow = envelope_narrower_than_rollups(req.from, req.to, budget);
    std::string from = std::to_string(req.from), to = std::to_string(req.to);
    PgResult bounds =
        narrow ? pg_->exec("SELECT min(step), max(step), (SELECT count(*) FROM trainscope.points WHERE series_id = $1 "
                           "AND step BETWEEN $2 AND $3) FROM trainscope.points WHERE series_id = $1",
                           {series, from, to})
               : pg_->exec("SELECT min(step), max(step) FROM trainscope.points WHERE series_id = $1", {series});
    bool any = !bounds.is_null(0, 0);
    std::int64_t lo = any ? std::max(req.from, bounds.int64(0, 0)) : 0;
    std::int64_t hi = any ? std::min(req.to, bounds.int64(0, 1)) : -1;
    std::optional<std::int64_t> in_range;
    if (narrow) in_range = bounds.int64(0, 2);
    if (lo > hi) in_range = 0;
    if (lo <= hi && !narrow) {
        // Level of detail: whole rollup buckets where they fit, raw points only at the edges;
        // the same pieces and envelope as the node's store (store/rollup_cover.hpp).
        MinMaxBuckets buckets(lo, hi, budget);
        if (buckets.width_bits() >= kRollupLevels.front()) {
            in_range = pg_add_from_rollups(*pg_, find.int64(0, 0), lo, hi, buckets);
            if (static_cast<std::size_t>(*in_range) > req.max_points) {
                result.total = *in_range;
                result.downsampled = true;
                head(result);
                for (const StoredPoint& p : buckets.take()) point(p);
                return result;
            }
        }  // else a sparse range that fits after all: read at full resolution below
    }

    if (!in_range)
        in_range = pg_->exec("SELECT count(*) FROM trainscope.points WHERE series_id = $1 AND step BETWEEN $2 AND $3",
                             {series, from, to})
                       .int64(0, 0);
    result.total = *in_range;
    result.downsampled = static_cast<std::size_t>(result.total) > req.max_points;
    head(result);
    if (result.total == 0) return result;

    // Streamed through a cursor, a slice at a time: a long range never sits whole in memory.
    // Downsampled here only when the envelope's buckets are narrower than the finest rollup.
    std::optional<MinMaxBuckets> buckets;
    if (result.downsampled) buckets.emplace(lo, hi, budget);
    const char* rows_sql = "SELECT seq, step, t_us, value FROM trainscope.points "
                           "WHERE series_id = $1 AND step BETWEEN $2 AND $3 ORDER BY step, seq";
    constexpr int kSlice = 20000;
    bool one_slice = result.total <= kSlice;
    if (!one_slice) pg_->exec(std::string("DECLARE range_rows NO SCROLL CURSOR FOR ") + rows_sql, {series, from, to});
    for (;;) {
        PgResult rows = one_slice ? pg_->exec(rows_sql, {series, from, to})
                                  : pg_->exec("FETCH " + std::to_string(kSlice) + " FROM range_rows");
        for (int i = 0; i < rows.rows(); ++i) {
            StoredPoint p = read_point(rows, i);
            if (buckets) buckets->add(p); else point(p);
        }
        if (one_slice || rows.rows() < kSlice) break;
    }
    if (buckets)
        for (const StoredPoint& p : buckets->take()) point(p);
    return result;
}

SeriesResult PgReader::latest(const SeriesRequest& req, const std::function<void(const SeriesResult&)>& head,
                              const std::function<void(const StoredPoint&)>& point) {
    Use use(*this);
    // One statement (one snapshot): the series, its newest point from the `latest` table kept
    // by every batch (a primary-key lookup, no read of points) and the run's seq.
    std::string sql =
        "SELECT s.rank, l.seq, l.step, l.t_us, l.value, "
        "(SELECT sum(shipped_seq) FROM trainscope.run_nodes WHERE session_id = $1) "
        "FROM trainscope.series s LEFT JOIN trainscope.latest l ON l.series_id = s.id "
        "WHERE s.session_id = $1 AND s.name = $2 ";
    PgResult r = req.rank >= 0 ? pg_->exec(sql + "AND s.rank = $3 ORDER BY s.id LIMIT 1",
                                           {req.session_id, req.metric, std::to_string(req.rank)})
                               : pg_->exec(sql + "ORDER BY s.rank, s.id LIMIT 1", {req.session_id, req.metric});
    SeriesResult result;
    if (r.rows() == 0) return result;
    result.found = true;
    result.rank = static_cast<int>(r.int64(0, 0));
    result.seq = r.is_null(0, 5) ? 0 : r.int64(0, 5);
    bool any = !r.is_null(0, 1);
    result.total = any ? 1 : 0;
    head(result);
    if (any)
        point(StoredPoint{r.int64(0, 1), r.int64(0, 2), static_cast<double>(r.int64(0, 3)) / 1000.0,
                          pg_double(r.text(0, 4), r.is_null(0, 4))});
    return result;
}

std::vector<std::vector<MetricFigures>> PgReader::series_figures(const std::vector<std::string>& session_ids,
                                                                 const std::vector<std::string>& metrics) {
    Use use(*this);
    return pg_series_figures(*pg_, session_ids, metrics);
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
