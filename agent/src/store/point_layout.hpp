// Where the points live (docs/store.md, docs/ingest.md): an append-only rowid table
// `point_rows` (seq, step, t_us, value) written series by series, and `point_chunks`, one row
// per run of at most PointWriter::kRowsPerChunk rows of one series: (series_id, first_seq,
// last_seq, first_row, last_row), keyed (series_id, first_seq). A view named `points` joins
// them back into (series_id, seq, step, t_us, value) rows for the sqlite3 shell. Appending is
// half the cost of inserting into the middle of a (series_id, seq) b-tree.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/sqlite.hpp"

namespace trainscope::agent {

/// Creates point_rows and point_chunks if missing, and the `points` view (with a trigger
/// that turns an INSERT into it into a row and its own index row) unless `points` is still
/// the table of an older agent.
void create_point_tables(Db& db);

/// A database whose `points` is the older (series_id, seq) WITHOUT ROWID table: moves every
/// row into point_rows/point_chunks, series by series in seq order, replaces the table by
/// the view, in one transaction, then frees the old table's pages. `progress` hears how it
/// goes. False (and nothing done) if there is nothing to move.
bool migrate_clustered_points(Db& db, const std::function<void(const std::string&)>& progress);

/// FROM-clause text: index rows `c` of series `series` joined to their point rows `p`, only
/// those with seq in [lo, hi] (SQL expressions: parameters, or a column of a table before
/// it). The index rows are found by one seek: the last one starting at or before `lo`, then
/// on up to `hi`. `ORDER BY c.first_seq, p.rowid` is seq order without a sort.
std::string series_point_rows(const std::string& series, const std::string& lo, const std::string& hi);

/// For a series whose steps never go down in seq order: finds the seq of its first point
/// whose step is `past` (false, then true as steps grow). A binary search over its index rows
/// (a seek and a rowid lookup each), then over the rows of one of them: about log2(seqs) + 6
/// lookups, never a scan. Its statements are prepared once for both ends of a range.
class StepSearch {
public:
    StepSearch(Db& db, std::int64_t series);
    /// The series' newest seq (0: no points).
    std::int64_t newest_seq() const { return newest_seq_; }
    /// That seq, or newest_seq() + 1 if no point is past.
    std::int64_t first_seq_past(const std::function<bool(std::int64_t)>& past);

private:
    std::int64_t series_;
    Stmt at_, before_, row_;
    std::int64_t oldest_first_ = 0, newest_first_ = 0, newest_seq_ = 0;
    bool any_ = false;
};

/// Bounds for series_point_rows that take every seq.
inline const char* const kFirstSeq = "-9223372036854775807";
inline const char* const kLastSeq = "9223372036854775807";

/// SQL giving the rowid (in point_rows) of the newest point of series `series`.
std::string newest_point_row(const std::string& series);

}  // namespace trainscope::agent
