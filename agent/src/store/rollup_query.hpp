// The read side of the rollup levels: fills a MinMaxBuckets from rollup rows where whole
// rollup buckets fit in the range, and from the level below at the range's edges, down to
// the raw points. Reads a few thousand rows for a range of millions of points.
#pragma once

#include <cstdint>
#include <utility>

#include "store/downsample.hpp"
#include "store/sqlite.hpp"

namespace trainscope::agent {

/// Adds every point of series `series_id` with a step in [lo, hi] to `buckets` (whose width
/// must be at least the finest rollup level's, so each rollup bucket lies in one of its
/// buckets). Returns how many points that is. Call inside a read transaction.
std::int64_t add_from_rollups(Db& db, std::int64_t series_id, std::int64_t lo, std::int64_t hi,
                              MinMaxBuckets& buckets);

/// A seq span holding every point of the series with a step in [lo, hi] (and maybe others),
/// from the rollup buckets over the range: what bounds a read of an out-of-order series,
/// which cannot binary-search its steps. {1, 0} (empty) if the range has no points.
std::pair<std::int64_t, std::int64_t> rollup_seq_span(Db& db, std::int64_t series_id, std::int64_t lo,
                                                      std::int64_t hi);

}  // namespace trainscope::agent
