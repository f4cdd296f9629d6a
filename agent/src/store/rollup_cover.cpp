#include "store/rollup_cover.hpp"

#include "store/rollups.hpp"

namespace trainscope::agent {

namespace {

using Wide = __int128;  // bucket arithmetic near the int64 ends cannot overflow

/// Steps [lo, hi] from level index `li` down (-1: the raw points).
void cover(Wide lo, Wide hi, int li, std::vector<RollupPiece>& out) {
    if (lo > hi) return;
    if (li < 0) {
        out.push_back(RollupPiece{-1, static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi)});
        return;
    }
    int bits = kRollupLevels[static_cast<std::size_t>(li)];
    Wide width = Wide(1) << bits;
    Wide first_whole = (lo + width - 1) >> bits;  // ceil(lo / width)
    Wide last_whole = ((hi + 1) >> bits) - 1;     // floor((hi + 1) / width) - 1
    if (first_whole > last_whole) return cover(lo, hi, li - 1, out);
    out.push_back(RollupPiece{bits, static_cast<std::int64_t>(first_whole), static_cast<std::int64_t>(last_whole)});
    // The partial buckets at both edges, from the level below.
    cover(lo, first_whole * width - 1, li - 1, out);
    cover((last_whole + 1) * width, hi, li - 1, out);
}

}  // namespace

std::vector<RollupPiece> rollup_cover(std::int64_t lo, std::int64_t hi, int width_bits) {
    // The coarsest level no wider than the answer's buckets: each of its rows lies in one.
    int top = -1;
    for (std::size_t i = 0; i < kRollupLevels.size(); ++i)
        if (kRollupLevels[i] <= width_bits) top = static_cast<int>(i);
    std::vector<RollupPiece> out;
    cover(lo, hi, top, out);
    return out;
}

}  // namespace trainscope::agent
