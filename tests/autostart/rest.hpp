// REST checks against an agent found through autostart: one run, waiting for its state, and
// one series of one rank.
#pragma once

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace trainscope::test {

using namespace std::chrono_literals;

/// GET target as JSON: a null document if the status is not 200 or the body not JSON.
rapidjson::Document get_json(unsigned short port, const std::string& target);

/// Waits until GET /api/runs/{id} satisfies `ok`; on timeout a failure showing the last body.
::testing::AssertionResult wait_run(unsigned short port, const std::string& session_id,
                                    const std::function<bool(const rapidjson::Value&)>& ok,
                                    const std::string& what, std::chrono::milliseconds timeout = 10s);

/// Waits until the run is `status` with exactly `points` points stored.
::testing::AssertionResult wait_run_stored(unsigned short port, const std::string& session_id,
                                           const std::string& status, std::int64_t points,
                                           std::chrono::milliseconds timeout = 10s);

/// An int array member as a vector (empty if missing).
std::vector<std::int64_t> int_array(const rapidjson::Value& v, const char* name);

/// What one rank of a ts-producer run logged in series "t0/m<metric>": steps [0, steps),
/// value step * 0.5 + metric + offset.
struct RankSeries {
    int metric = 0;
    std::int64_t steps = 0;
    double offset = 0;
};

/// GET .../metrics/t0%2Fm<metric>[?rank=R]: the reply names rank `expect_rank`, is not
/// downsampled, and holds exactly every step once with its exact value, nothing else.
::testing::AssertionResult series_is(unsigned short port, const std::string& session_id,
                                     int query_rank, int expect_rank, const RankSeries& want);

}  // namespace trainscope::test
