// The arithmetic behind the statistics plugin: current, whole-run mean, recent-window mean
// and best value of a series. Non-finite values (NaN, Inf) are counted but kept out of the
// means, so one divergent step does not turn every figure into NaN.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>

namespace trainscope::plugins {

class SeriesStats {
public:
    explicit SeriesStats(std::size_t window) : window_(window) {}

    void add(std::int64_t step, double value) {
        last_ = value;
        last_step_ = step;
        ++count_;
        if (!std::isfinite(value)) {
            ++non_finite_;
            return;
        }
        sum_ += value;
        ++finite_;
        recent_.push_back(value);
        recent_sum_ += value;
        if (recent_.size() > window_) {
            recent_sum_ -= recent_.front();
            recent_.pop_front();
        }
        if (!best_ || value < *best_) {
            best_ = value;
            best_step_ = step;
        }
    }

    std::int64_t count() const { return count_; }
    std::int64_t non_finite() const { return non_finite_; }
    std::optional<double> last() const { return count_ ? std::optional<double>(last_) : std::nullopt; }
    std::int64_t last_step() const { return last_step_; }
    std::optional<double> mean() const {
        return finite_ ? std::optional<double>(sum_ / static_cast<double>(finite_)) : std::nullopt;
    }
    std::optional<double> recent_mean() const {
        return recent_.empty() ? std::nullopt
                               : std::optional<double>(recent_sum_ / static_cast<double>(recent_.size()));
    }
    std::optional<double> best() const { return best_; }
    std::int64_t best_step() const { return best_step_; }

private:
    std::size_t window_;
    double last_ = std::numeric_limits<double>::quiet_NaN();
    std::int64_t last_step_ = 0;
    std::int64_t count_ = 0, finite_ = 0, non_finite_ = 0;
    double sum_ = 0;
    std::deque<double> recent_;
    double recent_sum_ = 0;
    std::optional<double> best_;
    std::int64_t best_step_ = 0;
};

}  // namespace trainscope::plugins
