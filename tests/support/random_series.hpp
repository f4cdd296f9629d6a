// Random series of every shape the level of detail must get right, for the brute-force
// tests of the node's rollups (tests/agent/rollup_lod_test.cpp) and the hub's
// (tests/forward/pg_rollup_lod_test.cpp): in order, with repeated steps, shuffled, late
// points, NaN and ±Inf (and a long NaN run), negative steps, sparse; spikes and dips in each.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace trainscope::test {

/// Series name -> (step, value) pairs in the order a trainer logs them.
using RandomSeries = std::map<std::string, std::vector<std::pair<std::int64_t, double>>>;

/// One series of each kind, about `n` points each.
RandomSeries random_series(std::mt19937& gen, int n);

}  // namespace trainscope::test
