// The built-in plugins' arithmetic against hand-computed cases: rolling rate, ETA, run
// statistics, trend on noisy rising/falling/flat series, and divergence detection.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "loss_stats.hpp"
#include "rolling_rate.hpp"
#include "run_config.hpp"
#include "trend.hpp"

namespace trainscope::plugins {
namespace {

TEST(RollingRate, AveragesStepsOverTheWindow) {
    RollingRate rate(10.0);
    EXPECT_FALSE(rate.steps_per_second());
    rate.add(0, 0);
    EXPECT_FALSE(rate.steps_per_second());  // one sample spans no time
    rate.add(10, 1000);
    EXPECT_DOUBLE_EQ(*rate.steps_per_second(), 10.0);
    rate.add(30, 3000);
    EXPECT_DOUBLE_EQ(*rate.steps_per_second(), 10.0);
    // 17 s after (10, 1000)... the window keeps (30, 3000) and (1000, 20000): 970 steps / 17 s.
    rate.add(1000, 20000);
    EXPECT_NEAR(*rate.steps_per_second(), 970.0 / 17.0, 1e-9);
    EXPECT_EQ(*rate.last_step(), 1000);
}

TEST(RollingRate, IgnoresRepeatedAndBackwardSteps) {
    RollingRate rate(10.0);
    rate.add(0, 0);
    rate.add(100, 1000);
    rate.add(100, 1500);  // an evaluation logged at the same step
    rate.add(50, 1600);   // a late point from an older step
    EXPECT_DOUBLE_EQ(*rate.steps_per_second(), 100.0);
}

TEST(Eta, RemainingStepsOverRate) {
    EXPECT_DOUBLE_EQ(*eta_seconds(100, 1100, 10.0), 100.0);
    EXPECT_DOUBLE_EQ(*eta_seconds(1100, 1100, 10.0), 0.0);
    EXPECT_DOUBLE_EQ(*eta_seconds(2000, 1100, 10.0), 0.0);
    EXPECT_FALSE(eta_seconds(100, 1100, 0.0));
    EXPECT_FALSE(eta_seconds(100, 0, 5.0));
}

TEST(RunConfig, ReadsMaxItersAndTokens) {
    RunConfig c = parse_run_config(R"({"max_iters": 5000, "tokens_per_iter": 1024, "lr": 0.1})");
    ASSERT_TRUE(c.loaded);
    EXPECT_EQ(*c.max_iters, 5000);
    EXPECT_EQ(*c.tokens_per_iter, 1024);
    EXPECT_FALSE(parse_run_config("{not json").loaded);
    EXPECT_FALSE(parse_run_config("").loaded);
    EXPECT_FALSE(parse_run_config(R"({"max_iters": "many"})").max_iters);
}

TEST(SeriesStats, MeansSkipNonFiniteValues) {
    SeriesStats s(3);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    double values[] = {4, 2, nan, 6, 1};
    for (int i = 0; i < 5; ++i) s.add(i, values[i]);
    EXPECT_EQ(s.count(), 5);
    EXPECT_EQ(s.non_finite(), 1);
    EXPECT_DOUBLE_EQ(*s.mean(), 13.0 / 4.0);
    EXPECT_DOUBLE_EQ(*s.recent_mean(), 3.0);  // 2, 6, 1
    EXPECT_DOUBLE_EQ(*s.best(), 1.0);
    EXPECT_EQ(s.best_step(), 4);
    EXPECT_DOUBLE_EQ(*s.last(), 1.0);
}

std::deque<std::pair<std::int64_t, double>> series(double level, double slope, double noise, unsigned seed,
                                                   int n = 200) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, noise);
    std::deque<std::pair<std::int64_t, double>> out;
    for (int x = 0; x < n; ++x) out.emplace_back(1000 + x, level + slope * x + normal(rng));
    return out;
}

TEST(Trend, NoisyFallingSeriesIsDecreasing) {
    for (unsigned seed = 1; seed <= 20; ++seed) {
        TrendResult r = classify_trend(series(2.0, -0.001, 0.05, seed), TrendParams{});
        EXPECT_EQ(r.trend, Trend::decreasing) << "seed " << seed << " t=" << r.t_stat;
        EXPECT_NEAR(r.slope, -0.001, 0.0003);
    }
}

TEST(Trend, NoisyRisingSeriesIsIncreasing) {
    for (unsigned seed = 1; seed <= 20; ++seed)
        EXPECT_EQ(classify_trend(series(1.0, 0.001, 0.05, seed), TrendParams{}).trend, Trend::increasing)
            << "seed " << seed;
}

TEST(Trend, NoisyFlatSeriesIsStable) {
    for (unsigned seed = 1; seed <= 20; ++seed) {
        TrendResult r = classify_trend(series(1.5, 0.0, 0.2, seed), TrendParams{});
        EXPECT_EQ(r.trend, Trend::stable) << "seed " << seed << " t=" << r.t_stat;
    }
}

TEST(Trend, TinySteadyDriftIsStable) {
    // Significant against its error, but it moves the loss by 0.01 % across the window.
    TrendResult r = classify_trend(series(1.5, 1e-6, 1e-5, 3), TrendParams{});
    EXPECT_GT(std::fabs(r.t_stat), 4.0);
    EXPECT_EQ(r.trend, Trend::stable);
}

TEST(Trend, TooFewPointsIsUnknown) {
    EXPECT_EQ(classify_trend(series(1.0, -0.1, 0.0, 1, 10), TrendParams{}).trend, Trend::unknown);
}

TEST(Trend, HandComputedSlope) {
    // y = 3 - 0.5 x exactly: slope -0.5, no residual, t = -inf.
    std::deque<std::pair<std::int64_t, double>> w;
    for (int x = 0; x < 30; ++x) w.emplace_back(x, 3.0 - 0.5 * x);
    TrendResult r = classify_trend(w, TrendParams{});
    EXPECT_DOUBLE_EQ(r.slope, -0.5);
    EXPECT_TRUE(std::isinf(r.t_stat) && r.t_stat < 0);
    EXPECT_EQ(r.trend, Trend::decreasing);
}

TEST(Divergence, FiresOnceWhenLossRisesWellAboveItsMinimum) {
    DivergenceDetector d(100, 0.5, 5, 5);
    int fired = 0;
    std::int64_t step = 0;
    for (int i = 0; i < 50; ++i) fired += d.add(step++, 1.0);
    EXPECT_EQ(fired, 0);
    for (int i = 0; i < 50; ++i) fired += d.add(step++, 1.0 + 0.05 * i);  // up to 3.45
    EXPECT_EQ(fired, 1);
    EXPECT_TRUE(d.diverged());
    EXPECT_DOUBLE_EQ(d.minimum_at_alert(), 1.0);
    for (int i = 0; i < 30; ++i) fired += d.add(step++, 3.5);  // still high: no repeat
    EXPECT_EQ(fired, 1);
    for (int i = 0; i < 30; ++i) fired += d.add(step++, 1.0);  // recovered: re-armed
    EXPECT_FALSE(d.diverged());
    for (int i = 0; i < 30; ++i) fired += d.add(step++, 3.0);
    EXPECT_EQ(fired, 2);
}

TEST(Divergence, MiniBatchNoiseDoesNotFire) {
    // A converged loss of 0.01 with ±50 % batch-to-batch noise: no divergence.
    DivergenceDetector d(500, 0.5, 5, 20);
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> noise(0.005, 0.015);
    int fired = 0;
    for (int i = 0; i < 5000; ++i) fired += d.add(i, noise(rng));
    EXPECT_EQ(fired, 0);
}

TEST(Divergence, IgnoresNonFiniteValues) {
    DivergenceDetector d(100, 0.5, 1, 1);
    EXPECT_FALSE(d.add(0, std::numeric_limits<double>::quiet_NaN()));
    EXPECT_FALSE(d.add(1, std::numeric_limits<double>::infinity()));
    EXPECT_FALSE(d.diverged());
}

}  // namespace
}  // namespace trainscope::plugins
