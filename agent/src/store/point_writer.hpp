// Appends points to the `point_rows` heap for Store::commit and indexes each run of one
// series' rows in `point_chunks` (schema: point_layout.hpp, docs/store.md). Kept apart from
// store.cpp because it is the ingest hot path (see docs/ingest.md).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "store/sqlite.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

/// Buffers one series' points, then appends them with one INSERT ... SELECT from a virtual
/// table over the buffer (`point_batch`, this connection only): SQLite's per-statement work
/// is paid per run of rows, not per row (half the CPU of one bound INSERT per row). Not
/// thread-safe: the writer's connection only, one PointWriter on it at a time.
class PointWriter {
public:
    /// Most rows one index row covers (64): a read of a seq range starts and ends inside at
    /// most two of them, so it scans fewer than this many rows outside the range at each end.
    static const std::int64_t kRowsPerChunk;

    explicit PointWriter(Db& db);
    ~PointWriter();
    PointWriter(const PointWriter&) = delete;
    PointWriter& operator=(const PointWriter&) = delete;

    /// Appends one point with its seq. A series' points must come in seq order, above every
    /// seq it already has, one series after another. Throws SqliteError (the transaction is
    /// the caller's).
    void insert(std::int64_t seq, const PendingPoint& p);
    /// Writes what is buffered and its index rows: before the commit.
    void finish();
    /// After a failed insert or transaction, or a deletion: forgets what is buffered and the
    /// series' small index rows it was keeping count of, leaves the statements ready.
    void reset();

    /// A buffered point (what the virtual table hands SQLite).
    struct Row {
        std::int64_t seq, step, t_us;
        double value;  ///< NaN goes in as NULL
    };

private:
    /// A series' index rows of fewer than kRowsPerChunk rows since its last full one: a
    /// trainer logging slowly gives one per point per commit (the collector commits every
    /// few ms). Once they hold kRowsPerChunk rows, compact() rewrites them as full ones.
    struct Tail {
        std::int64_t first_seq = 0;
        std::int64_t rows = 0, chunks = 0;
    };
    void write_run();
    /// Appends run_ (series_), writes its index rows, empties run_; returns the rows of its
    /// last index row.
    std::int64_t append_run();
    /// Moves the series' tail rows to the heap's end as one run (deleting the old rows and
    /// index rows), so they take full index rows and sit together on disk.
    void compact(std::int64_t series, const Tail& tail);
    Db& conn_;
    sqlite3* db_;
    sqlite3_stmt* rows_ = nullptr;
    sqlite3_stmt* chunk_ = nullptr;
    std::int64_t series_ = 0;
    std::vector<Row> run_;  ///< one series' points, not yet written
    std::unordered_map<std::int64_t, Tail> tails_;
};

}  // namespace trainscope::agent
