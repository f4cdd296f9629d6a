#include "store/rollup_query.hpp"

#include <limits>
#include <string>

#include "store/point_layout.hpp"
#include "store/rollups.hpp"

namespace trainscope::agent {

namespace {

using Wide = __int128;  // bucket arithmetic near the int64 ends cannot overflow

class Cover {
public:
    Cover(Db& db, std::int64_t series, MinMaxBuckets& out)
        : series_(series), out_(out),
          rows_(db, (std::string("SELECT ") + kRollupBucketColumns +
                     " FROM rollups WHERE series_id=? AND level=? AND bucket BETWEEN ? AND ?").c_str()),
          span_(db, "SELECT MIN(seq_lo), MAX(seq_hi) FROM rollups "
                    "WHERE series_id=? AND level=? AND bucket BETWEEN ? AND ?"),
          raw_(db, ("SELECT p.seq, p.step, p.t_us, p.value FROM " + series_point_rows("?1", "?2", "?3") +
                    " WHERE p.step BETWEEN ?4 AND ?5").c_str()) {}

    /// Steps [lo, hi] from level index `li` down (-1: the raw points).
    void range(Wide lo, Wide hi, int li) {
        if (lo > hi) return;
        if (li < 0) return raw(static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi));
        int bits = kRollupLevels[static_cast<std::size_t>(li)];
        Wide width = Wide(1) << bits;
        Wide first_whole = (lo + width - 1) >> bits;   // ceil(lo / width)
        Wide last_whole = ((hi + 1) >> bits) - 1;      // floor((hi + 1) / width) - 1
        if (first_whole > last_whole) return range(lo, hi, li - 1);
        rows_.bind(1, series_).bind(2, bits).bind(3, static_cast<std::int64_t>(first_whole))
            .bind(4, static_cast<std::int64_t>(last_whole));
        while (rows_.step()) {
            EnvelopeBucket b = read_rollup_bucket(rows_, 0);
            total_ += b.count;
            out_.add(b);
        }
        rows_.reset();
        // The partial buckets at both edges, from the level below.
        range(lo, first_whole * width - 1, li - 1);
        range((last_whole + 1) * width, hi, li - 1);
    }

    std::int64_t total() const { return total_; }

private:
    /// Less than a finest bucket's width at an edge: its points, found by the seq span the
    /// finest buckets record (no index on step; an out-of-order series' span may be wider).
    void raw(std::int64_t lo, std::int64_t hi) {
        int finest = kRollupLevels.front();
        span_.bind(1, series_).bind(2, finest).bind(3, lo >> finest).bind(4, hi >> finest);
        bool any = span_.step() && !span_.is_null(0);
        std::int64_t seq_lo = any ? span_.int64(0) : 0, seq_hi = any ? span_.int64(1) : 0;
        span_.reset();
        if (!any) return;
        raw_.bind(1, series_).bind(2, seq_lo).bind(3, seq_hi).bind(4, lo).bind(5, hi);
        while (raw_.step()) {
            out_.add(StoredPoint{raw_.int64(0), raw_.int64(1), static_cast<double>(raw_.int64(2)) / 1000.0,
                                 raw_.is_null(3) ? std::numeric_limits<double>::quiet_NaN() : raw_.real(3)});
            ++total_;
        }
        raw_.reset();
    }

    std::int64_t series_;
    MinMaxBuckets& out_;
    Stmt rows_, span_, raw_;
    std::int64_t total_ = 0;
};

}  // namespace

std::int64_t add_from_rollups(Db& db, std::int64_t series_id, std::int64_t lo, std::int64_t hi,
                              MinMaxBuckets& buckets) {
    // The coarsest level no wider than the answer's buckets: each of its rows lies in one.
    int top = -1;
    for (std::size_t i = 0; i < kRollupLevels.size(); ++i)
        if (kRollupLevels[i] <= buckets.width_bits()) top = static_cast<int>(i);
    Cover cover(db, series_id, buckets);
    cover.range(lo, hi, top);
    return cover.total();
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
