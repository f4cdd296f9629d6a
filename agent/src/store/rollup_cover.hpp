// Which rollup rows and raw points make up a step range, for an envelope of a given bucket
// width: the level choice shared by the node's SQLite (rollup_query.cpp) and the hub's
// PostgreSQL (hub/pg_rollup_read.cpp), so both read the same pieces and answer alike.
#pragma once

#include <cstdint>
#include <vector>

namespace trainscope::agent {

/// A piece of a range: rollup buckets [first, last] of one level, or (level -1) the raw
/// points with steps in [first, last] (less than a finest bucket at an edge of the range).
struct RollupPiece {
    int level;
    std::int64_t first, last;
};

/// The pieces covering steps [lo, hi] for an envelope of 2^width_bits-step buckets (at least
/// the finest level's width): whole buckets of the coarsest level no wider than that, the two
/// partial edges from the level below, and so on down to raw points. Every point with a step
/// in [lo, hi] lies in exactly one piece, and each rollup bucket in one envelope bucket.
std::vector<RollupPiece> rollup_cover(std::int64_t lo, std::int64_t hi, int width_bits);

}  // namespace trainscope::agent
