// Appends points to the `point_rows` heap for Store::commit and indexes each run of one
// series' rows in `point_chunks` (schema: point_layout.hpp, docs/store.md). Kept apart from
// store.cpp because it is the ingest hot path (see docs/ingest.md).
#pragma once

#include <sqlite3.h>

#include <cstdint>

#include "store/sqlite.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

/// Two prepared INSERTs reused for every point and every index row. Not thread-safe: the
/// writer's connection only.
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
    /// Writes the index row of the rows appended since the last one: before the commit.
    void finish();
    /// After a failed insert or transaction: forgets the open run, leaves the statements ready.
    void reset();

private:
    void write_chunk();
    sqlite3* db_;
    sqlite3_stmt* row_ = nullptr;
    sqlite3_stmt* chunk_ = nullptr;
    // The open run of rows: one series, contiguous rowids, seqs ascending.
    std::int64_t series_ = 0, first_seq_ = 0, last_seq_ = 0, first_row_ = 0, rows_ = 0;
};

}  // namespace trainscope::agent
