// The read side of the rollup levels: fills a MinMaxBuckets from rollup rows where whole
// rollup buckets fit in the range, and from the level below at the range's edges, down to
// the raw points. Reads a few thousand rows for a range of millions of points.
#pragma once

#include <cstdint>

#include "store/downsample.hpp"
#include "store/sqlite.hpp"

namespace trainscope::agent {

/// Adds every point of series `series_id` with a step in [lo, hi] to `buckets` (whose width
/// must be at least the finest rollup level's, so each rollup bucket lies in one of its
/// buckets). Returns how many points that is. Call inside a read transaction.
std::int64_t add_from_rollups(Db& db, std::int64_t series_id, std::int64_t lo, std::int64_t hi,
                              MinMaxBuckets& buckets);

}  // namespace trainscope::agent
