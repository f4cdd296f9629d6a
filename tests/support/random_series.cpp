#include "support/random_series.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace trainscope::test {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

RandomSeries random_series(std::mt19937& gen, int n) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    RandomSeries out;
    auto loss = [&](std::int64_t s) {
        double v = 3.0 / (1.0 + 0.0005 * static_cast<double>(std::abs(s))) + 0.2 * unit(gen);
        if (unit(gen) < 0.002) v *= 50;  // a spike
        if (unit(gen) < 0.002) v = -v;   // a dip
        return v;
    };
    auto& ordered = out["ordered"];
    for (std::int64_t s = 0, i = 0; i < n; ++i, s += 1 + static_cast<std::int64_t>(gen() % 3))
        ordered.emplace_back(s, loss(s));
    auto& repeats = out["repeats/loss"];  // a step logged up to 4 times, ties often; loss-like: best is min
    for (std::int64_t s = 100; static_cast<int>(repeats.size()) < n; s += 1)
        for (unsigned r = gen() % 4 + 1; r > 0; --r) repeats.emplace_back(s, std::round(loss(s) * 4) / 4);
    auto& shuffled = out["shuffled"];
    for (std::int64_t s = 0; s < n; ++s) shuffled.emplace_back(s * 2, loss(s));
    std::shuffle(shuffled.begin(), shuffled.end(), gen);
    auto& late = out["late"];  // in order, with 3% of the points coming back to an old step
    for (std::int64_t s = 0, i = 0; i < n; ++i, ++s) {
        std::int64_t step = unit(gen) < 0.03 ? static_cast<std::int64_t>(gen() % static_cast<unsigned>(s + 1)) : s;
        late.emplace_back(step, loss(step));
    }
    auto& nonfinite = out["nonfinite"];  // NaN and ±Inf here and there, and a run of NaN only
    for (std::int64_t s = 0; s < n; ++s) {
        double v = loss(s), u = unit(gen);
        if (u < 0.01) v = kNaN;
        else if (u < 0.015) v = kInf;
        else if (u < 0.02) v = -kInf;
        if (s >= n / 3 && s < n / 3 + 300) v = kNaN;
        nonfinite.emplace_back(s, v);
    }
    auto& negative = out["negative"];  // steps below zero: buckets are floor(step / 2^k)
    for (std::int64_t s = -n / 2; s < n - n / 2; ++s) negative.emplace_back(s, loss(s));
    auto& sparse = out["sparse"];  // every ~500 steps: the coarse levels' buckets fill up
    for (std::int64_t s = 3, i = 0; i < n; ++i, s += 400 + static_cast<std::int64_t>(gen() % 200))
        sparse.emplace_back(s, loss(s));
    return out;
}

}  // namespace trainscope::test
