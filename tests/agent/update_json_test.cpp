// Proves: a training_update built from points rendered once and shared between clients
// (render_points + slices) is byte for byte the message built from the points themselves,
// for whole updates, a slice starting mid-update, and slices of several updates joined.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "serve/json_out.hpp"

namespace {

using namespace trainscope::agent;

std::vector<StoredPoint> points(std::int64_t first_seq, std::size_t n) {
    std::vector<StoredPoint> out;
    for (std::size_t i = 0; i < n; ++i) {
        double v = i % 7 == 3 ? std::nan("") : 0.1 * static_cast<double>(i) - 2;
        out.push_back(StoredPoint{first_seq + static_cast<std::int64_t>(i), static_cast<std::int64_t>(i) * 10,
                                  1764892800123.456 + static_cast<double>(i), v});
    }
    return out;
}

TEST(UpdateJson, SharedRenderingGivesTheSameMessage) {
    SeriesUpdate a{"run-ü", 2, "train/loss \"q\"", points(100, 9)};
    auto ra = std::make_shared<const RenderedPoints>(render_points(a.points));
    for (auto [b, e] : {std::pair<std::size_t, std::size_t>{0, 9}, {3, 9}, {0, 1}, {8, 9}, {2, 5}})
        for (bool more : {false, true})
            EXPECT_EQ(training_update_json(a.session_id, a.rank, a.metric, {PointSlice{ra, b, e}}, 77, more),
                      training_update_json(a, b, e, 77, more))
                << b << ".." << e;

    // Two commits of one series queued for one flush: the slices join into one array.
    SeriesUpdate b{"run-ü", 2, "train/loss \"q\"", points(109, 4)};
    auto rb = std::make_shared<const RenderedPoints>(render_points(b.points));
    SeriesUpdate joined = a;
    joined.points.insert(joined.points.end(), b.points.begin() + 1, b.points.end());
    EXPECT_EQ(training_update_json(a.session_id, a.rank, a.metric, {PointSlice{ra, 0, 9}, PointSlice{rb, 1, 4}}, 112,
                                   false),
              training_update_json(joined, 0, joined.points.size(), 112, false));
}

}  // namespace
