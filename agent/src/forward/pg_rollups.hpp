// The level-of-detail rollups on PostgreSQL (table trainscope.rollups, docs/postgres.md): the
// same buckets as the node's store (store/rollups.hpp: levels 2^6 ... 2^18 steps, one
// EnvelopeBucket per series, level and bucket), kept in each shipped batch's transaction.
//
// A batch's points are summed per bucket here, by the very EnvelopeBucket the node uses (so
// the tie rules are the same code), and the sums are merged into the stored rows by SQL: one
// COPY into a temporary table and one INSERT ... ON CONFLICT DO UPDATE that combines counts,
// sums, seq spans, first/last by (step, seq), min/max by (value, seq) and the earliest NaN/Inf
// exactly as EnvelopeBucket::merge does. Reading is hub/pg_rollup_read.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "store/envelope_bucket.hpp"
#include "store/rollups.hpp"  // kRollupBucketColumns

namespace trainscope::agent {

class PgConnection;
class PgResult;

/// Reads the bucket in columns [col, col + 25) of a row selected with kRollupBucketColumns
/// (store/rollups.hpp: trainscope.rollups has the node's bucket columns, same names and order).
EnvelopeBucket read_pg_rollup_bucket(const PgResult& r, int row, int col);

/// What some points change in the rollups: per (series, level, bucket) the summary of those
/// points. Add the points (any order), then merge_into the open transaction.
class PgRollupDelta {
public:
    void add(std::int64_t series_id, const StoredPoint& p);
    bool empty() const { return finest_.empty(); }
    /// Merges the summaries into trainscope.rollups (inside the caller's transaction) and
    /// clears this delta. Throws PgError.
    void merge_into(PgConnection& pg);

private:
    /// Points merged per finest bucket first: one merge per point, the levels once per bucket.
    std::map<std::pair<std::int64_t, std::int64_t>, EnvelopeBucket> finest_;
    EnvelopeBucket* last_ = nullptr;
    std::pair<std::int64_t, std::int64_t> last_key_{-1, 0};
};

/// Builds the rollups of every point already in trainscope.points (the upgrade from schema
/// version 1), in the caller's transaction, a slice of points at a time. Returns the points read.
std::int64_t build_pg_rollups(PgConnection& pg);

}  // namespace trainscope::agent
