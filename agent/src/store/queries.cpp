#include "store/queries.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "store/downsample.hpp"
#include "store/point_layout.hpp"
#include "store/rollup_query.hpp"
#include "store/rollups.hpp"
#include "store/run_meta.hpp"
#include "store/run_rows.hpp"

namespace trainscope::agent {

namespace {

const std::string kRunColumns = std::string("SELECT ") + kRunFields + " " + kRunSource;

double value_of(const Stmt& q, int col) {
    return q.is_null(col) ? std::numeric_limits<double>::quiet_NaN() : q.real(col);
}

}  // namespace

// The user's name, the trainer's, notes, tags and the id: what a search in the run picker
// looks in (joined by line feeds: text typed in a search box never spans two of them).
const char* const kRunTextMatch =
    "instr(lower(COALESCE(m.name, '') || char(10) || r.name || char(10) || COALESCE(m.notes, '') || "
    "char(10) || COALESCE(m.tags, '') || char(10) || r.session_id), lower(?2)) > 0";

RunInfo read_run(const Stmt& q) {
    RunInfo r;
    r.session_id = q.text(0);
    r.name = q.text(1);
    r.status = q.text(2);
    r.host = q.text(3);
    r.pid = q.int64(4);
    r.started_ms = q.real(5);
    r.ended_ms = q.is_null(6) ? 0 : q.real(6);
    r.last_ms = q.is_null(7) ? 0 : q.real(7);
    r.last_seq = q.int64(8);
    r.points = r.last_seq;  // every stored point takes the next seq
    r.dropped = q.int64(9);
    r.original_name = q.text(10);
    r.notes = q.text(11);
    r.tags = split_tags(std::string(q.text(12)));
    return r;
}

Queries::Queries(const std::string& db_path) : db_(db_path, true) {
    // One reader per WebSocket client and per request: SQLite's default 2 MB page cache each
    // adds up (40 clients, 80 MB); the OS page cache holds the file for all of them anyway.
    db_.exec("PRAGMA cache_size=-256");
}

void Queries::fill_details(RunInfo& run) {
    Stmt q(db_, "SELECT DISTINCT name, rank FROM series WHERE session_id=? ORDER BY name, rank");
    q.bind(1, run.session_id);
    while (q.step()) {
        std::string name(q.text(0));
        if (run.metrics.empty() || run.metrics.back() != name) run.metrics.push_back(name);
        int rank = static_cast<int>(q.int64(1));
        if (std::find(run.ranks.begin(), run.ranks.end(), rank) == run.ranks.end())
            run.ranks.push_back(rank);
    }
    std::sort(run.ranks.begin(), run.ranks.end());
    std::sort(run.metrics.begin(), run.metrics.end());
    run.metrics.erase(std::unique(run.metrics.begin(), run.metrics.end()), run.metrics.end());
}

std::vector<RunInfo> Queries::runs() {
    Stmt q(db_, (kRunColumns + " ORDER BY r.started_ms DESC").c_str());
    std::vector<RunInfo> out;
    while (q.step()) out.push_back(read_run(q));
    for (RunInfo& r : out) fill_details(r);
    return out;
}

Queries::RunPage Queries::run_page(const RunFilter& f) {
    // instr(lower()) rather than LIKE: no wildcard characters to escape in what a user types.
    Stmt q(db_, (kRunColumns +
                 " WHERE (?1 = '' OR r.status = ?1) AND (?2 = '' OR " + std::string(kRunTextMatch) + ")"
                 " AND (?3 IS NULL OR r.started_ms < ?3 OR (r.started_ms = ?3 AND r.session_id < ?4))"
                 " ORDER BY r.started_ms DESC, r.session_id DESC LIMIT ?5")
                    .c_str());
    q.bind(1, f.status).bind(2, f.text);
    if (f.after) q.bind(3, f.after->first).bind(4, f.after->second);
    else q.bind_null(3).bind_null(4);
    q.bind(5, f.limit + 1);  // one more tells whether another page follows
    RunPage page;
    while (q.step()) page.runs.push_back(read_run(q));
    if (static_cast<std::int64_t>(page.runs.size()) > f.limit) {
        page.runs.pop_back();
        page.more = true;
    }
    for (RunInfo& r : page.runs) fill_details(r);
    return page;
}

std::vector<RunInfo> Queries::runs_active_since(double since_ms) {
    Stmt q(db_, (kRunColumns +
                 " WHERE r.status = 'running' OR COALESCE(r.ended_ms, r.last_ms, r.started_ms) >= ?"
                 " ORDER BY r.started_ms DESC")
                    .c_str());
    q.bind(1, since_ms);
    std::vector<RunInfo> out;
    while (q.step()) out.push_back(read_run(q));
    return out;
}

std::vector<Queries::LatestValue> Queries::latest_values(const std::string& session_id,
                                                         std::int64_t limit) {
    // The series' newest index row is a seek to its last entry, its last row one rowid lookup.
    Stmt q(db_,
           ("SELECT s.name, s.rank, p.step, p.value FROM series s JOIN point_rows p ON p.rowid = " +
            newest_point_row("s.id") + " WHERE s.session_id = ? ORDER BY s.name, s.rank LIMIT ?")
               .c_str());
    q.bind(1, session_id).bind(2, limit);
    std::vector<LatestValue> out;
    while (q.step())
        out.push_back({std::string(q.text(0)), static_cast<int>(q.int64(1)), q.int64(2), value_of(q, 3)});
    return out;
}

std::optional<RunInfo> Queries::run(const std::string& session_id) {
    Stmt q(db_, (kRunColumns + " WHERE r.session_id=?").c_str());
    q.bind(1, session_id);
    if (!q.step()) return std::nullopt;
    RunInfo r = read_run(q);
    fill_details(r);
    return r;
}

std::optional<std::int64_t> Queries::last_seq(const std::string& session_id) {
    Stmt q(db_, "SELECT last_seq FROM runs WHERE session_id=?");
    q.bind(1, session_id);
    if (!q.step()) return std::nullopt;
    return q.int64(0);
}

std::int64_t Queries::run_count() {
    Stmt q(db_, "SELECT COUNT(*) FROM runs");
    return q.step() ? q.int64(0) : 0;
}

std::optional<std::string> Queries::newest_session() {
    Stmt q(db_, "SELECT session_id FROM runs ORDER BY started_ms DESC LIMIT 1");
    if (!q.step()) return std::nullopt;
    return std::string(q.text(0));
}

std::optional<std::string> Queries::run_text(const std::string& session_id, const char* column) {
    std::string sql = std::string("SELECT COALESCE(") + column + ", '') FROM runs WHERE session_id=?";
    Stmt q(db_, sql.c_str());
    q.bind(1, session_id);
    if (!q.step()) return std::nullopt;
    return std::string(q.text(0));
}

SeriesResult Queries::series(const SeriesRequest& req) {
    SeriesResult collected;
    SeriesResult figures = series(
        req, [](const SeriesResult&) {}, [&collected](const StoredPoint& p) { collected.points.push_back(p); });
    figures.points = std::move(collected.points);
    return figures;
}

SeriesResult Queries::series(const SeriesRequest& req,
                             const std::function<void(const SeriesResult&)>& head,
                             const std::function<void(const StoredPoint&)>& point) {
    SeriesResult result;
    // One read transaction: the series' figures, the points and the run's seq come from the
    // same snapshot, so a live client can tell which pushed points the response already holds.
    db_.exec("BEGIN");
    struct EndRead {
        Db& db;
        ~EndRead() { sqlite3_exec(db.handle(), "COMMIT", nullptr, nullptr, nullptr); }
    } end_read{db_};
    Stmt find(db_, req.rank >= 0 ? "SELECT id, rank, points, min_step, max_step, steps_ordered "
                                   "FROM series WHERE session_id=? AND name=? AND rank=?"
                                 : "SELECT id, rank, points, min_step, max_step, steps_ordered "
                                   "FROM series WHERE session_id=? AND name=? ORDER BY rank LIMIT 1");
    find.bind(1, req.session_id).bind(2, req.metric);
    if (req.rank >= 0) find.bind(3, req.rank);
    if (!find.step()) return result;
    result.found = true;
    std::int64_t series = find.int64(0);
    result.rank = static_cast<int>(find.int64(1));
    std::int64_t total = find.int64(2), first_step = find.int64(3), last_step = find.int64(4);
    bool steps_ordered = find.int64(5) != 0;

    Stmt last(db_, "SELECT last_seq FROM runs WHERE session_id=?");
    last.bind(1, req.session_id);
    if (last.step()) result.seq = last.int64(0);

    if (req.last_only) {
        // The run list's "latest loss": one descent of point_chunks and one rowid lookup,
        // however long the series is.
        Stmt newest(db_, ("SELECT seq, step, t_us, value FROM point_rows WHERE rowid = " + newest_point_row("?1"))
                             .c_str());
        newest.bind(1, series);
        bool any = newest.step();
        result.total = any ? 1 : 0;
        head(result);
        if (any)
            point(StoredPoint{newest.int64(0), newest.int64(1),
                              static_cast<double>(newest.int64(2)) / 1000.0, value_of(newest, 3)});
        return result;
    }

    // The envelope's buckets span the request clamped to the series' steps, on both paths.
    std::int64_t envelope_lo = std::max(req.from, first_step), envelope_hi = std::min(req.to, last_step);
    std::size_t budget = std::min(req.max_points, kMaxDownsampledPoints);
    if (static_cast<std::size_t>(total) > req.max_points && envelope_lo <= envelope_hi) {
        // Level of detail: whole rollup buckets where they fit, raw points only at the edges.
        MinMaxBuckets buckets(envelope_lo, envelope_hi, budget);
        if (buckets.width_bits() >= kRollupLevels.front()) {
            std::int64_t in_range = add_from_rollups(db_, series, envelope_lo, envelope_hi, buckets);
            if (static_cast<std::size_t>(in_range) > req.max_points) {
                result.total = in_range;
                result.downsampled = true;
                head(result);
                for (const StoredPoint& p : buckets.take()) point(p);
                return result;
            }
        }  // else a sparse range that fits after all: read at full resolution below
    }

    // The seq span to read: the whole series, unless the range is narrower and the series'
    // steps never go down in seq order (Store::commit keeps steps_ordered). Then "the first
    // point at or after seq s has a step past the bound" only turns from false to true as s
    // grows, so a binary search (StepSearch: over the index rows, then one's rows, a seek
    // per probe) finds where the range starts and ends: the reads below touch its rows only,
    // not the whole series (there is no index on step).
    std::int64_t seq_from = 0, seq_to = std::numeric_limits<std::int64_t>::max();
    bool narrower = total > 0 && (req.from > first_step || req.to < last_step);
    if (narrower && steps_ordered) {
        StepSearch search(db_, series);
        seq_from = search.first_seq_past([&](std::int64_t step) { return step >= req.from; });
        seq_to = search.first_seq_past([&](std::int64_t step) { return step > req.to; }) - 1;
    } else if (narrower && envelope_lo <= envelope_hi) {
        // Steps out of order: the rollup buckets over the range know the seqs of its points.
        std::tie(seq_from, seq_to) = rollup_seq_span(db_, series, envelope_lo, envelope_hi);
    }

    // A range that covers the whole series (the chart's default request) takes the count and
    // step bounds Store::commit keeps in the series row; a narrower one counts its rows.
    if (narrower) {
        Stmt count(db_, ("SELECT COUNT(*), MIN(p.step), MAX(p.step) FROM " + series_point_rows("?1", "?2", "?3") +
                         " WHERE p.step BETWEEN ?4 AND ?5")
                            .c_str());
        count.bind(1, series).bind(2, seq_from).bind(3, seq_to).bind(4, req.from).bind(5, req.to);
        count.step();
        total = count.int64(0);
        first_step = count.int64(1);
        last_step = count.int64(2);
    }
    result.total = total;
    bool fits = static_cast<std::size_t>(result.total) <= req.max_points;
    result.downsampled = !fits;
    head(result);
    if (result.total == 0) return result;

    // At full resolution: step order for the chart (a trainer may log steps out of order),
    // seq breaking ties; a series whose steps never go down is in that order by seq already
    // (no sort). Downsampled: the table's own (series_id, seq) order, no sort of the whole
    // range; the buckets take points in any order and hand them back in step order.
    const std::string rows = "SELECT p.seq, p.step, p.t_us, p.value FROM " +
                             series_point_rows("?1", "?2", "?3") + " WHERE p.step BETWEEN ?4 AND ?5";
    Stmt q(db_, (rows + (fits && !steps_ordered ? " ORDER BY p.step, p.seq" : " ORDER BY c.first_seq, p.rowid"))
                    .c_str());
    q.bind(1, series).bind(2, seq_from).bind(3, seq_to).bind(4, req.from).bind(5, req.to);
    auto row = [&q] {
        return StoredPoint{q.int64(0), q.int64(1), static_cast<double>(q.int64(2)) / 1000.0,
                           value_of(q, 3)};
    };
    if (fits) {
        while (q.step()) point(row());  // streamed: a 5M-point answer is never held
        return result;
    }
    MinMaxBuckets buckets(envelope_lo, envelope_hi, budget);
    while (q.step()) buckets.add(row());
    for (const StoredPoint& p : buckets.take()) point(p);
    return result;
}

std::vector<SeriesUpdate> Queries::points_since(const std::string& session_id, std::int64_t since,
                                                std::int64_t upto) {
    std::vector<SeriesUpdate> out;
    Stmt series(db_, "SELECT id, rank, name FROM series WHERE session_id=? ORDER BY id");
    series.bind(1, session_id);
    Stmt q(db_, ("SELECT p.seq, p.step, p.t_us, p.value FROM " + series_point_rows("?1", "?2", "?3") +
                 " ORDER BY c.first_seq, p.rowid")
                    .c_str());
    while (series.step()) {
        SeriesUpdate u{session_id, static_cast<int>(series.int64(1)), std::string(series.text(2)), {}};
        q.bind(1, series.int64(0)).bind(2, since + 1).bind(3, upto);
        while (q.step())
            u.points.push_back(StoredPoint{q.int64(0), q.int64(1),
                                           static_cast<double>(q.int64(2)) / 1000.0, value_of(q, 3)});
        q.reset();
        if (!u.points.empty()) out.push_back(std::move(u));
    }
    return out;
}

std::vector<RunEvent> Queries::events(const std::string& session_id) {
    Stmt ev(db_, "SELECT rank, t_ms, kind, text FROM events WHERE session_id=? ORDER BY t_ms");
    ev.bind(1, session_id);
    std::vector<RunEvent> out;
    while (ev.step()) out.push_back(RunEvent{ev.int64(0), ev.real(1), std::string(ev.text(2)), std::string(ev.text(3))});
    return out;
}

}  // namespace trainscope::agent
