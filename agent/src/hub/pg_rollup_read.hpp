// The hub's level-of-detail read: a downsampled series answer from trainscope.rollups, cut
// into the same pieces as on a node (store/rollup_cover.hpp) and fed to the same envelope
// buckets (store/downsample.hpp), so a hub answers a request exactly as the node that
// shipped the series would.
#pragma once

#include <cstdint>

#include "store/downsample.hpp"

namespace trainscope::agent {

class PgConnection;

/// Adds every point of series `series_id` with a step in [lo, hi] to `buckets` (at least
/// 2^6 steps wide): whole rollup buckets where they fit, raw points (by the (series_id, step)
/// index) at the edges; two statements. Returns how many points that is. Call inside the
/// reader's snapshot.
std::int64_t pg_add_from_rollups(PgConnection& pg, std::int64_t series_id, std::int64_t lo, std::int64_t hi,
                                 MinMaxBuckets& buckets);

}  // namespace trainscope::agent
