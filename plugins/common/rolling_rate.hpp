// Iterations per second as a rolling average: the steps covered over the last `window`
// seconds divided by the time they took. A mean over a window, so one slow iteration (an
// evaluation, a checkpoint) moves it only as much as it weighs in that window.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace trainscope::plugins {

class RollingRate {
public:
    explicit RollingRate(double window_seconds) : window_ms_(window_seconds * 1000.0) {}

    /// Adds an observation: the trainer reached `step` at Unix time t_ms. Out-of-order or
    /// repeated steps (a restarted rank, an evaluation at the same step) are ignored.
    void add(std::int64_t step, double t_ms) {
        if (!samples_.empty() && (step <= samples_.back().step || t_ms < samples_.back().t_ms)) return;
        samples_.push_back({step, t_ms});
        while (samples_.size() > 2 && t_ms - samples_[1].t_ms >= window_ms_) samples_.pop_front();
    }

    /// Steps per second over the window, once two observations span some time.
    std::optional<double> steps_per_second() const {
        if (samples_.size() < 2) return std::nullopt;
        double dt = samples_.back().t_ms - samples_.front().t_ms;
        if (dt <= 0) return std::nullopt;
        return static_cast<double>(samples_.back().step - samples_.front().step) * 1000.0 / dt;
    }

    std::optional<std::int64_t> last_step() const {
        if (samples_.empty()) return std::nullopt;
        return samples_.back().step;
    }
    std::optional<double> last_t_ms() const {
        if (samples_.empty()) return std::nullopt;
        return samples_.back().t_ms;
    }

private:
    struct Sample {
        std::int64_t step;
        double t_ms;
    };
    double window_ms_;
    std::deque<Sample> samples_;
};

/// Seconds left to reach max_iters at `rate` steps/s; nullopt when it cannot be known.
inline std::optional<double> eta_seconds(std::int64_t step, std::int64_t max_iters, double rate) {
    if (rate <= 0 || max_iters <= 0) return std::nullopt;
    if (step >= max_iters) return 0.0;
    return static_cast<double>(max_iters - step) / rate;
}

}  // namespace trainscope::plugins
