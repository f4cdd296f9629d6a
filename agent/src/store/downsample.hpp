// Downsampling that keeps spikes: split the step range into buckets and keep, per bucket,
// the point with the smallest and the point with the largest value (in step order), plus
// the range's first and last points so the curve spans the whole range.
// A loss spike that a stride sample would skip survives as its bucket's max.
//
// The buckets are aligned power-of-two step intervals: [b * 2^k, (b + 1) * 2^k), with k the
// smallest that gives no more buckets over [first, last] than the budget holds. Then every
// bucket is a union of whole rollup buckets (rollups.hpp, widths 2^6 ... 2^18) plus, at the
// range's edges, smaller pieces: the rollup path (rollup_query.hpp) and a scan of the raw
// points fill the same buckets and give the same answer.
#pragma once

#include <cstdint>
#include <vector>

#include "store/envelope_bucket.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

class MinMaxBuckets {
public:
    /// Buckets cover steps [first, last]; at most max_points points come out.
    MinMaxBuckets(std::int64_t first, std::int64_t last, std::size_t max_points);

    /// log2 of the bucket width in steps (64: one bucket holds every step).
    int width_bits() const { return bits_; }

    /// Points may arrive in any order. A bucket's earliest NaN/Inf is kept in place of its
    /// minimum, so a divergence stays visible.
    void add(const StoredPoint& p);
    /// Adds a summary of points that all fall in one bucket of this width (a rollup bucket
    /// no wider than 2^width_bits(), aligned): the same as adding each of its points.
    void add(const EnvelopeBucket& b);

    /// The kept points, ordered by step (then seq), never more than max_points.
    std::vector<StoredPoint> take();

private:
    std::size_t index(std::int64_t step) const;
    std::size_t max_points_;
    std::int64_t first_;
    int bits_ = 64;
    std::vector<EnvelopeBucket> buckets_;
    EnvelopeBucket all_;  ///< the whole range: its first and last points
};

}  // namespace trainscope::agent
