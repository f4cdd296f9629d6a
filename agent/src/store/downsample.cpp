#include "store/downsample.hpp"

#include <algorithm>

namespace trainscope::agent {

namespace {

/// floor(step / 2^bits); a 64-bit shift would be undefined, and puts every step in bucket 0.
std::int64_t bucket_of(std::int64_t step, int bits) { return bits >= 64 ? 0 : step >> bits; }

/// Buckets from first's to last's (first <= last), without signed overflow.
std::uint64_t buckets_between(std::int64_t first, std::int64_t last, int bits) {
    return static_cast<std::uint64_t>(bucket_of(last, bits)) - static_cast<std::uint64_t>(bucket_of(first, bits)) + 1;
}

}  // namespace

MinMaxBuckets::MinMaxBuckets(std::int64_t first, std::int64_t last, std::size_t max_points)
    : max_points_(std::max<std::size_t>(1, max_points)), first_(first) {
    // Two points per bucket, plus the range's first and last points.
    std::size_t n = max_points_ >= 4 ? (max_points_ - 2) / 2 : 0;
    if (n == 0 || last < first) return;
    // The narrowest aligned width whose buckets over [first, last] fit in n.
    for (bits_ = 0; bits_ < 64; ++bits_) {
        if (buckets_between(first, last, bits_) <= n) break;
    }
    buckets_.resize(static_cast<std::size_t>(buckets_between(first, last, bits_)));
}

std::size_t MinMaxBuckets::index(std::int64_t step) const {
    // A step outside [first, last] (callers filter, but be safe) goes to the nearest bucket.
    if (step <= first_) return 0;
    return static_cast<std::size_t>(std::min<std::uint64_t>(buckets_between(first_, step, bits_) - 1, buckets_.size() - 1));
}

void MinMaxBuckets::add(const StoredPoint& p) {
    all_.add(p);
    if (!buckets_.empty()) buckets_[index(p.step)].add(p);
}

void MinMaxBuckets::add(const EnvelopeBucket& b) {
    if (b.empty()) return;
    all_.merge(b);
    if (!buckets_.empty()) buckets_[index(b.first.step)].merge(b);
}

std::vector<StoredPoint> MinMaxBuckets::take() {
    std::vector<StoredPoint> out;
    if (all_.empty()) return out;
    if (max_points_ == 1) return {all_.last};
    out.reserve(buckets_.size() * 2 + 2);
    out.push_back(all_.first);
    out.push_back(all_.last);
    for (const EnvelopeBucket& b : buckets_) {
        if (b.nonfinite) {
            // The earliest NaN/Inf stands in for the min: a divergence stays visible.
            out.push_back(b.non_finite);
            if (b.has_finite()) out.push_back(b.max);
        } else if (b.has_finite()) {
            out.push_back(b.min);
            out.push_back(b.max);
        }
    }
    std::sort(out.begin(), out.end(), step_earlier);
    // Drop duplicates (a bucket's min that is also the range's first point, say).
    out.erase(std::unique(out.begin(), out.end(),
                          [](const StoredPoint& a, const StoredPoint& b) { return a.seq == b.seq; }),
              out.end());
    return out;
}

}  // namespace trainscope::agent
