// Proves: MinMaxBuckets (the agent's spike-keeping downsampler) never returns more than
// max_points, keeps a one-point spike and dip, keeps NaN (a divergence stays visible), keeps
// the first and the last step so a chart spans the whole range, returns points in step
// order, and does not depend on the order the points arrive in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "store/downsample.hpp"

namespace trainscope::agent {
namespace {

constexpr std::int64_t kPoints = 20000;

/// A noisy, slowly decaying loss: no point is special unless a test makes it so.
std::vector<StoredPoint> loss_curve(std::int64_t n = kPoints) {
    std::mt19937 gen(1234);
    std::uniform_real_distribution<double> noise(-0.05, 0.05);
    std::vector<StoredPoint> out;
    for (std::int64_t s = 0; s < n; ++s)
        out.push_back(StoredPoint{s + 1, s, 1000.0 + static_cast<double>(s),
                                  2.0 * std::exp(-static_cast<double>(s) / 5000.0) + noise(gen)});
    return out;
}

std::vector<StoredPoint> downsample(const std::vector<StoredPoint>& points,
                                    std::size_t max_points) {
    auto [lo, hi] = std::minmax_element(
        points.begin(), points.end(),
        [](const StoredPoint& a, const StoredPoint& b) { return a.step < b.step; });
    MinMaxBuckets buckets(lo->step, hi->step, max_points);
    for (const StoredPoint& p : points) buckets.add(p);
    return buckets.take();
}

const StoredPoint* at_step(const std::vector<StoredPoint>& points, std::int64_t step) {
    for (const StoredPoint& p : points)
        if (p.step == step) return &p;
    return nullptr;
}

TEST(DownsampleTest, NeverMoreThanMaxPoints) {
    std::vector<StoredPoint> points = loss_curve();
    for (std::size_t max_points : {1u, 2u, 3u, 7u, 10u, 999u, 1000u, 19999u}) {
        std::vector<StoredPoint> out = downsample(points, max_points);
        EXPECT_LE(out.size(), max_points) << "max_points " << max_points;
        EXPECT_FALSE(out.empty()) << "max_points " << max_points;
    }
}

TEST(DownsampleTest, SpikeAndDipSurvive) {
    std::vector<StoredPoint> points = loss_curve();
    points[12345].value = 100.0;
    points[777].value = -50.0;
    std::vector<StoredPoint> out = downsample(points, 1000);
    const StoredPoint* spike = at_step(out, 12345);
    const StoredPoint* dip = at_step(out, 777);
    ASSERT_NE(spike, nullptr);
    ASSERT_NE(dip, nullptr);
    EXPECT_EQ(spike->value, 100.0);
    EXPECT_EQ(dip->value, -50.0);
}

TEST(DownsampleTest, NaNIsKept) {
    std::vector<StoredPoint> points = loss_curve();
    points[5000].value = std::numeric_limits<double>::quiet_NaN();
    std::vector<StoredPoint> out = downsample(points, 1000);
    const StoredPoint* nan = at_step(out, 5000);
    ASSERT_NE(nan, nullptr);
    EXPECT_TRUE(std::isnan(nan->value));
}

TEST(DownsampleTest, FirstAndLastStepAreKept) {
    std::vector<StoredPoint> out = downsample(loss_curve(), 1000);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.front().step, 0) << "the chart would start late";
    EXPECT_EQ(out.back().step, kPoints - 1) << "the chart would end early";
}

TEST(DownsampleTest, OrderedByStepWhateverTheArrivalOrder) {
    std::vector<StoredPoint> points = loss_curve();
    std::vector<StoredPoint> in_order = downsample(points, 500);
    std::shuffle(points.begin(), points.end(), std::mt19937(99));
    std::vector<StoredPoint> shuffled = downsample(points, 500);
    ASSERT_EQ(in_order.size(), shuffled.size());
    for (std::size_t i = 0; i < in_order.size(); ++i) {
        EXPECT_EQ(in_order[i].step, shuffled[i].step);
        EXPECT_EQ(in_order[i].value, shuffled[i].value);
        if (i > 0) {
            EXPECT_LT(in_order[i - 1].step, in_order[i].step);
        }
    }
}

TEST(DownsampleTest, FewPointsPassThroughUnchanged) {
    std::vector<StoredPoint> points = loss_curve(10);
    std::vector<StoredPoint> out = downsample(points, 1000);
    ASSERT_EQ(out.size(), points.size());
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].value, points[i].value);
}

}  // namespace
}  // namespace trainscope::agent
