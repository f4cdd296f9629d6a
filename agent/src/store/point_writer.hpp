// Inserts points into the `points` table for Store::commit, one series' run of points at a
// time. Kept apart from store.cpp because it is the ingest hot path (see docs/ingest.md).
#pragma once

#include <sqlite3.h>

#include <cstdint>

#include "store/sqlite.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

/// One prepared INSERT reused for every point. Not thread-safe: the writer's connection only.
class PointWriter {
public:
    explicit PointWriter(Db& db);
    ~PointWriter();
    PointWriter(const PointWriter&) = delete;
    PointWriter& operator=(const PointWriter&) = delete;

    /// Inserts one point with its seq; throws SqliteError (the transaction is the caller's).
    void insert(std::int64_t seq, const PendingPoint& p);
    /// Leaves the statement ready after a failed insert.
    void reset() { sqlite3_reset(stmt_); }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace trainscope::agent
