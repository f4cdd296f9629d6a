// One bucket of a series' min/max envelope: what the chart needs of the points whose steps
// fall in it. Downsampling adds points one by one; the rollup levels (rollups.hpp) keep
// buckets of fixed power-of-two step widths and merge them. Every choice below is made by a
// total order (value, then seq; step, then seq), never by arrival order, so adding the points
// and merging buckets of any split of them give the same bucket.
#pragma once

#include <cmath>
#include <cstdint>

#include "store/types.hpp"

namespace trainscope::agent {

/// (step, seq) order: the chart's order, seq breaking ties.
inline bool step_earlier(const StoredPoint& a, const StoredPoint& b) {
    return a.step != b.step ? a.step < b.step : a.seq < b.seq;
}

struct EnvelopeBucket {
    std::int64_t count = 0;      ///< every point, NaN and Inf included
    std::int64_t nonfinite = 0;  ///< NaN and ±Inf points: kept out of min, max and sum
    double sum = 0;              ///< of the finite values (mean = sum / (count - nonfinite))
    std::int64_t seq_lo = 0, seq_hi = 0;  ///< the seq span of its points (count > 0)
    StoredPoint first{}, last{};  ///< earliest and latest by (step, seq)
    StoredPoint min{}, max{};     ///< finite only; ties go to the lower seq
    StoredPoint non_finite{};     ///< the earliest NaN/Inf by (step, seq)

    bool empty() const { return count == 0; }
    bool has_finite() const { return count > nonfinite; }

    void add(const StoredPoint& p) {
        bool finite = std::isfinite(p.value);
        if (empty()) {
            *this = EnvelopeBucket{};
            count = 1;
            seq_lo = seq_hi = p.seq;
            first = last = p;
            if (finite) {
                sum = p.value;
                min = max = p;
            } else {
                nonfinite = 1;
                non_finite = p;
            }
            return;
        }
        // The same choices as merge() with a one-point bucket, without building one: this is
        // per stored point on the ingest path (docs/ingest.md).
        if (finite) {
            if (!has_finite()) {
                min = max = p;
            } else {
                if (p.value < min.value || (p.value == min.value && p.seq < min.seq)) min = p;
                if (p.value > max.value || (p.value == max.value && p.seq < max.seq)) max = p;
            }
        } else {
            if (!nonfinite || step_earlier(p, non_finite)) non_finite = p;
            ++nonfinite;
        }
        sum += finite ? p.value : 0.0;  // as merge() adds a one-point bucket's sum
        if (step_earlier(p, first)) first = p;
        if (step_earlier(last, p)) last = p;
        seq_lo = seq_lo < p.seq ? seq_lo : p.seq;
        seq_hi = seq_hi > p.seq ? seq_hi : p.seq;
        ++count;
    }

    void merge(const EnvelopeBucket& o) {
        if (o.empty()) return;
        if (empty()) {
            *this = o;
            return;
        }
        if (o.has_finite()) {
            if (!has_finite()) {
                min = o.min;
                max = o.max;
            } else {
                if (o.min.value < min.value || (o.min.value == min.value && o.min.seq < min.seq)) min = o.min;
                if (o.max.value > max.value || (o.max.value == max.value && o.max.seq < max.seq)) max = o.max;
            }
        }
        if (o.nonfinite && (!nonfinite || step_earlier(o.non_finite, non_finite))) non_finite = o.non_finite;
        if (step_earlier(o.first, first)) first = o.first;
        if (step_earlier(last, o.last)) last = o.last;
        seq_lo = seq_lo < o.seq_lo ? seq_lo : o.seq_lo;
        seq_hi = seq_hi > o.seq_hi ? seq_hi : o.seq_hi;
        count += o.count;
        nonfinite += o.nonfinite;
        sum += o.sum;
    }
};

}  // namespace trainscope::agent
