#include "store/point_layout.hpp"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <limits>

#include "store/point_writer.hpp"

namespace trainscope::agent {

namespace {

bool points_is_table(Db& db) {
    Stmt q(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='points'");
    return q.step();
}

void create_points_view(Db& db) {
    db.exec(R"sql(
CREATE VIEW IF NOT EXISTS points(series_id, seq, step, t_us, value) AS
    SELECT c.series_id, p.seq, p.step, p.t_us, p.value
    FROM point_chunks c JOIN point_rows p ON p.rowid BETWEEN c.first_row AND c.last_row;
-- A row written into the view (by hand, or by an agent before this layout) becomes a point
-- row with an index row of its own.
CREATE TRIGGER IF NOT EXISTS points_insert INSTEAD OF INSERT ON points BEGIN
    INSERT INTO point_rows(seq, step, t_us, value) VALUES (NEW.seq, NEW.step, NEW.t_us, NEW.value);
    INSERT INTO point_chunks(series_id, first_seq, last_seq, first_row, last_row)
        VALUES (NEW.series_id, NEW.seq, NEW.seq, last_insert_rowid(), last_insert_rowid());
END;
)sql");
}

}  // namespace

void create_point_tables(Db& db) {
    db.exec(R"sql(
CREATE TABLE IF NOT EXISTS point_rows (  -- append-only; a series' rows are found by point_chunks
    seq   INTEGER NOT NULL,   -- per-run order of arrival
    step  INTEGER NOT NULL,
    t_us  INTEGER NOT NULL,   -- Unix microseconds
    value REAL                -- NULL stands for NaN (SQLite has no NaN)
);
CREATE TABLE IF NOT EXISTS point_chunks (  -- one run of contiguous point_rows of one series
    series_id INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    first_row INTEGER NOT NULL,   -- rowids in point_rows, both included
    last_row  INTEGER NOT NULL,
    PRIMARY KEY (series_id, first_seq)
) WITHOUT ROWID;
)sql");
    if (!points_is_table(db)) create_points_view(db);
}

bool migrate_clustered_points(Db& db, const std::function<void(const std::string&)>& progress) {
    if (!points_is_table(db)) return false;
    auto start = std::chrono::steady_clock::now();
    std::int64_t total = 0;
    {
        Stmt count(db, "SELECT COUNT(*) FROM points");
        if (count.step()) total = count.int64(0);
    }
    progress("moving " + std::to_string(total) + " points to the append-only layout");
    {
        Transaction tx(db);
        std::int64_t moved = 0;
        {
            PointWriter writer(db);
            // The table's own order: series by series, each in seq order, as PointWriter needs.
            Stmt rows(db, "SELECT series_id, seq, step, t_us, value FROM points ORDER BY series_id, seq");
            while (rows.step()) {
                writer.insert(rows.int64(1),
                              PendingPoint{rows.int64(0), rows.int64(2), rows.int64(3),
                                           rows.is_null(4) ? std::numeric_limits<double>::quiet_NaN()
                                                           : rows.real(4)});
                if (++moved % 10'000'000 == 0)
                    progress("points: " + std::to_string(moved) + " of " + std::to_string(total) + " moved");
            }
            writer.finish();
        }
        db.exec("DROP TABLE points");
        create_points_view(db);
        tx.commit();
    }
    // The old table's pages go back to the file system (the file is incremental-vacuum).
    db.exec("PRAGMA incremental_vacuum");
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", took.count());
    progress("points moved: " + std::to_string(total) + " in " + secs + " s");
    return true;
}

std::string series_point_rows(const std::string& series, const std::string& lo, const std::string& hi) {
    // Index rows of one series never overlap in seq: the one holding `lo` is the last that
    // starts at or before it (none: every one starts after lo).
    return "point_chunks c JOIN point_rows p ON c.series_id = " + series + " AND c.first_seq <= " + hi +
           " AND c.first_seq >= COALESCE((SELECT MAX(first_seq) FROM point_chunks WHERE series_id = " +
           series + " AND first_seq <= " + lo + "), " + lo +
           ") AND p.rowid BETWEEN c.first_row AND c.last_row AND p.seq BETWEEN " + lo + " AND " + hi;
}

StepSearch::StepSearch(Db& db, std::int64_t series)
    : series_(series),
      // The first index row starting at or after a seq, with its first point's step.
      at_(db, "SELECT c.first_seq, p.step FROM point_chunks c JOIN point_rows p ON p.rowid = c.first_row "
              "WHERE c.series_id = ?1 AND c.first_seq >= ?2 ORDER BY c.first_seq LIMIT 1"),
      before_(db, "SELECT first_row, last_row FROM point_chunks WHERE series_id = ?1 AND first_seq < ?2 "
                  "ORDER BY first_seq DESC LIMIT 1"),
      row_(db, "SELECT seq, step FROM point_rows WHERE rowid = ?") {
    Stmt newest(db, "SELECT first_seq, last_seq FROM point_chunks WHERE series_id = ? ORDER BY first_seq DESC LIMIT 1");
    newest.bind(1, series);
    if (!newest.step()) return;
    any_ = true;
    newest_first_ = newest.int64(0);
    newest_seq_ = newest.int64(1);
    at_.bind(1, series_).bind(2, std::numeric_limits<std::int64_t>::min());
    oldest_first_ = at_.step() ? at_.int64(0) : newest_first_;
    at_.reset();
}

std::int64_t StepSearch::first_seq_past(const std::function<bool(std::int64_t)>& past) {
    const std::int64_t none = newest_seq_ + 1;
    if (!any_) return none;
    // Smallest s such that the first index row starting at or after s starts with a point
    // that is past (or there is no such row): every index row after it is past too.
    std::int64_t lo = oldest_first_, hi = newest_first_ + 1;
    while (lo < hi) {
        std::int64_t mid = lo + (hi - lo) / 2;
        at_.bind(1, series_).bind(2, mid);
        bool is_past = !at_.step() || past(at_.int64(1));
        at_.reset();
        if (is_past) hi = mid;
        else lo = mid + 1;
    }
    std::int64_t past_chunk_seq = none;  // first_seq of that index row
    at_.bind(1, series_).bind(2, lo);
    if (at_.step()) past_chunk_seq = at_.int64(0);
    at_.reset();
    // The index row before it starts with a point not past: its first past row, if any, is
    // the answer; else that index row's first.
    before_.bind(1, series_).bind(2, lo);
    bool has_before = before_.step();
    std::int64_t first_row = has_before ? before_.int64(0) : 0, last_row = has_before ? before_.int64(1) : 0;
    before_.reset();
    if (!has_before) return past_chunk_seq;
    std::int64_t row_lo = first_row + 1, row_hi = last_row + 1;  // first past row in [lo, hi)
    while (row_lo < row_hi) {
        std::int64_t mid = row_lo + (row_hi - row_lo) / 2;
        row_.bind(1, mid);
        bool is_past = row_.step() && past(row_.int64(1));
        row_.reset();
        if (is_past) row_hi = mid;
        else row_lo = mid + 1;
    }
    if (row_lo > last_row) return past_chunk_seq;
    row_.bind(1, row_lo);
    std::int64_t seq = row_.step() ? row_.int64(0) : past_chunk_seq;
    row_.reset();
    return seq;
}

std::string newest_point_row(const std::string& series) {
    return "(SELECT last_row FROM point_chunks WHERE series_id = " + series +
           " ORDER BY first_seq DESC LIMIT 1)";
}

}  // namespace trainscope::agent
