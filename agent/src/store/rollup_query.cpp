#include "store/rollup_query.hpp"

#include <limits>
#include <string>

#include "store/point_layout.hpp"
#include "store/rollup_cover.hpp"
#include "store/rollups.hpp"

namespace trainscope::agent {

namespace {

using Wide = __int128;  // bucket arithmetic near the int64 ends cannot overflow

}  // namespace

std::int64_t add_from_rollups(Db& db, std::int64_t series_id, std::int64_t lo, std::int64_t hi,
                              MinMaxBuckets& buckets) {
    Stmt rows(db, (std::string("SELECT ") + kRollupBucketColumns +
                   " FROM rollups WHERE series_id=? AND level=? AND bucket BETWEEN ? AND ?").c_str());
    Stmt span(db, "SELECT MIN(seq_lo), MAX(seq_hi) FROM rollups "
                  "WHERE series_id=? AND level=? AND bucket BETWEEN ? AND ?");
    Stmt raw(db, ("SELECT p.seq, p.step, p.t_us, p.value FROM " + series_point_rows("?1", "?2", "?3") +
                  " WHERE p.step BETWEEN ?4 AND ?5").c_str());
    std::int64_t total = 0;
    for (const RollupPiece& piece : rollup_cover(lo, hi, buckets.width_bits())) {
        if (piece.level >= 0) {
            rows.bind(1, series_id).bind(2, piece.level).bind(3, piece.first).bind(4, piece.last);
            while (rows.step()) {
                EnvelopeBucket b = read_rollup_bucket(rows, 0);
                total += b.count;
                buckets.add(b);
            }
            rows.reset();
            continue;
        }
        // Less than a finest bucket's width at an edge: its points, found by the seq span the
        // finest buckets record (no index on step; an out-of-order series' span may be wider).
        int finest = kRollupLevels.front();
        span.bind(1, series_id).bind(2, finest).bind(3, piece.first >> finest).bind(4, piece.last >> finest);
        bool any = span.step() && !span.is_null(0);
        std::int64_t seq_lo = any ? span.int64(0) : 0, seq_hi = any ? span.int64(1) : 0;
        span.reset();
        if (!any) continue;
        raw.bind(1, series_id).bind(2, seq_lo).bind(3, seq_hi).bind(4, piece.first).bind(5, piece.last);
        while (raw.step()) {
            buckets.add(StoredPoint{raw.int64(0), raw.int64(1), static_cast<double>(raw.int64(2)) / 1000.0,
                                    raw.is_null(3) ? std::numeric_limits<double>::quiet_NaN() : raw.real(3)});
            ++total;
        }
        raw.reset();
    }
    return total;
}

std::pair<std::int64_t, std::int64_t> rollup_seq_span(Db& db, std::int64_t series_id, std::int64_t lo,
                                                      std::int64_t hi) {
    // The finest level with at most 512 buckets over the range: few rows, a tight span.
    int level = kRollupLevels.back();
    for (int l : kRollupLevels)
        if ((Wide(hi) >> l) - (Wide(lo) >> l) < 512) {
            level = l;
            break;
        }
    Stmt span(db, "SELECT MIN(seq_lo), MAX(seq_hi) FROM rollups WHERE series_id=? AND level=? AND bucket BETWEEN ? AND ?");
    span.bind(1, series_id).bind(2, level).bind(3, lo >> level).bind(4, hi >> level);
    if (!span.step() || span.is_null(0)) return {1, 0};
    return {span.int64(0), span.int64(1)};
}

}  // namespace trainscope::agent
