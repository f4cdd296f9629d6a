// Trend and divergence tests for loss series.
//
// Trend: ordinary least squares of value on step over a recent window; the slope counts only
// when it is large against its own standard error (|t| >= t_threshold) AND moves the series
// by a meaningful fraction of its level across the window. Noise widens the standard error,
// so a flat, noisy series stays "stable"; a tiny but steady drift stays "stable" too.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <utility>

namespace trainscope::plugins {

enum class Trend { unknown, decreasing, stable, increasing };

inline const char* trend_name(Trend t) {
    switch (t) {
        case Trend::decreasing: return "decreasing";
        case Trend::stable: return "stable";
        case Trend::increasing: return "increasing";
        default: return "unknown";
    }
}

struct TrendResult {
    Trend trend = Trend::unknown;
    double slope = 0;            ///< value per step
    double t_stat = 0;           ///< slope / its standard error
    double relative_change = 0;  ///< slope * step span / |mean value|
    std::size_t n = 0;
};

struct TrendParams {
    std::size_t min_points = 20;
    double t_threshold = 4.0;
    double min_relative_change = 0.02;
};

/// Classifies (step, value) pairs; non-finite values must be filtered out beforehand.
inline TrendResult classify_trend(const std::deque<std::pair<std::int64_t, double>>& window,
                                  const TrendParams& params) {
    TrendResult r;
    r.n = window.size();
    if (r.n < params.min_points || r.n < 3) return r;
    double n = static_cast<double>(r.n);
    // Centre x on its first value: steps can be large, and squares of large numbers lose bits.
    double x0 = static_cast<double>(window.front().first);
    double sx = 0, sy = 0;
    for (const auto& [step, v] : window) {
        sx += static_cast<double>(step) - x0;
        sy += v;
    }
    double mx = sx / n, my = sy / n;
    double sxx = 0, sxy = 0;
    for (const auto& [step, v] : window) {
        double dx = static_cast<double>(step) - x0 - mx;
        sxx += dx * dx;
        sxy += dx * (v - my);
    }
    if (sxx <= 0) return r;  // every point at one step
    r.slope = sxy / sxx;
    double rss = 0;
    for (const auto& [step, v] : window) {
        double fit = my + r.slope * (static_cast<double>(step) - x0 - mx);
        rss += (v - fit) * (v - fit);
    }
    double se = std::sqrt(rss / (n - 2) / sxx);
    r.t_stat = se > 0 ? r.slope / se : (r.slope == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), r.slope));
    double span = static_cast<double>(window.back().first - window.front().first);
    r.relative_change = std::fabs(my) > 0 ? r.slope * span / std::fabs(my) : 0;
    bool significant = std::fabs(r.t_stat) >= params.t_threshold &&
                       std::fabs(r.relative_change) >= params.min_relative_change;
    r.trend = !significant ? Trend::stable : r.slope < 0 ? Trend::decreasing : Trend::increasing;
    return r;
}

/// Divergence: the loss, smoothed over `smoothing` points (mini-batch noise would trip any
/// point-wise rule), stays above its recent minimum by more than ratio * |minimum| for
/// `patience` consecutive points. Fires once, and re-arms only once the smoothed loss is
/// back within a quarter of that margin.
class DivergenceDetector {
public:
    DivergenceDetector(std::size_t window, double ratio, std::size_t patience, std::size_t smoothing = 20)
        : window_(window), ratio_(ratio), patience_(patience), smoothing_(smoothing) {}

    /// True exactly when a divergence begins at this point.
    bool add(std::int64_t step, double value) {
        if (!std::isfinite(value)) return false;
        recent_.push_back(value);
        recent_sum_ += value;
        if (recent_.size() > smoothing_) {
            recent_sum_ -= recent_.front();
            recent_.pop_front();
        }
        if (recent_.size() < smoothing_) return false;  // not enough points to judge yet
        double smooth = recent_sum_ / static_cast<double>(recent_.size());
        ++index_;
        // Sliding-window minimum of the smoothed loss: a deque of increasing values.
        while (!mins_.empty() && mins_.back().second >= smooth) mins_.pop_back();
        mins_.emplace_back(index_, smooth);
        while (mins_.front().first + static_cast<std::int64_t>(window_) <= index_) mins_.pop_front();
        double lo = mins_.front().second;
        double margin = ratio_ * std::fabs(lo);
        if (smooth > lo + margin) {
            if (++above_ >= patience_ && !diverged_) {
                diverged_ = true;
                min_at_alert_ = lo;
                value_at_alert_ = smooth;
                step_ = step;
                return true;
            }
        } else {
            above_ = 0;
            if (diverged_ && smooth <= lo + margin / 4) diverged_ = false;
        }
        return false;
    }
    bool diverged() const { return diverged_; }
    double minimum_at_alert() const { return min_at_alert_; }
    double value_at_alert() const { return value_at_alert_; }
    std::int64_t step() const { return step_; }

private:
    std::size_t window_;
    double ratio_;
    std::size_t patience_;
    std::size_t smoothing_;
    std::deque<double> recent_;
    double recent_sum_ = 0;
    std::int64_t index_ = 0;
    std::deque<std::pair<std::int64_t, double>> mins_;  ///< (index, smoothed value)
    std::size_t above_ = 0;
    bool diverged_ = false;
    double min_at_alert_ = 0, value_at_alert_ = 0;
    std::int64_t step_ = 0;
};

}  // namespace trainscope::plugins
