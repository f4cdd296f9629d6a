// Downsampling that keeps spikes: split the step range into buckets and keep, per bucket,
// the point with the smallest and the point with the largest value (in step order), plus
// the range's first and last points so the curve spans the whole range.
// A loss spike that a stride sample would skip survives as its bucket's max.
#pragma once

#include <cstdint>
#include <vector>

#include "store/types.hpp"

namespace trainscope::agent {

class MinMaxBuckets {
public:
    /// Buckets cover steps [first, last]; at most max_points points come out.
    MinMaxBuckets(std::int64_t first, std::int64_t last, std::size_t max_points);

    /// Points may arrive in any order. A bucket's first NaN/Inf is kept in place of its
    /// minimum, so a divergence stays visible.
    void add(const StoredPoint& p);

    /// The kept points, ordered by step (then seq), never more than max_points.
    std::vector<StoredPoint> take();

private:
    struct Bucket {
        bool used = false;
        bool has_non_finite = false;
        StoredPoint min{}, max{}, non_finite{};
    };
    std::size_t max_points_;
    std::int64_t first_;
    double width_;
    std::vector<Bucket> buckets_;
    bool any_ = false;
    StoredPoint first_point_{}, last_point_{};
};

}  // namespace trainscope::agent
