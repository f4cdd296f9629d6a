#include "store/downsample.hpp"

#include <algorithm>
#include <cmath>

namespace trainscope::agent {

namespace {

bool earlier(const StoredPoint& a, const StoredPoint& b) {
    return a.step != b.step ? a.step < b.step : a.seq < b.seq;
}

}  // namespace

MinMaxBuckets::MinMaxBuckets(std::int64_t first, std::int64_t last, std::size_t max_points)
    : max_points_(std::max<std::size_t>(1, max_points)), first_(first) {
    // Two points per bucket, plus the range's first and last points.
    std::size_t n = max_points_ >= 4 ? (max_points_ - 2) / 2 : 0;
    double span = static_cast<double>(last) - static_cast<double>(first) + 1.0;
    width_ = n ? std::max(1.0, span / static_cast<double>(n)) : span;
    if (n) n = std::min<std::size_t>(n, static_cast<std::size_t>(std::ceil(span / width_)));
    buckets_.resize(n);
}

void MinMaxBuckets::add(const StoredPoint& p) {
    if (!any_ || earlier(p, first_point_)) first_point_ = p;
    if (!any_ || earlier(last_point_, p)) last_point_ = p;
    any_ = true;
    if (buckets_.empty()) return;
    double offset = static_cast<double>(p.step) - static_cast<double>(first_);
    std::size_t i = static_cast<std::size_t>(std::max(0.0, offset / width_));
    if (i >= buckets_.size()) i = buckets_.size() - 1;
    Bucket& b = buckets_[i];
    if (!std::isfinite(p.value)) {
        // The first NaN/Inf of a bucket stands in for its min: a divergence stays visible.
        if (!b.has_non_finite) b.non_finite = p;
        b.has_non_finite = true;
        return;
    }
    if (!b.used) {
        b.used = true;
        b.min = b.max = p;
        return;
    }
    if (p.value < b.min.value) b.min = p;
    if (p.value > b.max.value) b.max = p;
}

std::vector<StoredPoint> MinMaxBuckets::take() {
    std::vector<StoredPoint> out;
    if (!any_) return out;
    if (max_points_ == 1) return {last_point_};
    out.reserve(buckets_.size() * 2 + 2);
    out.push_back(first_point_);
    out.push_back(last_point_);
    for (const Bucket& b : buckets_) {
        if (b.has_non_finite) {
            out.push_back(b.non_finite);
            if (b.used) out.push_back(b.max);
        } else if (b.used) {
            out.push_back(b.min);
            out.push_back(b.max);
        }
    }
    std::sort(out.begin(), out.end(), earlier);
    // Drop duplicates (a bucket's min that is also the range's first point, say).
    out.erase(std::unique(out.begin(), out.end(),
                          [](const StoredPoint& a, const StoredPoint& b) { return a.seq == b.seq; }),
              out.end());
    return out;
}

}  // namespace trainscope::agent
