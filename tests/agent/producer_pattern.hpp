// What ts-producer logs (series "t<thread>/m<metric>", value step*0.5 + thread*1000 +
// metric) and checks that the agent stored exactly that — through the REST API, and
// independently through the SQLite file.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agent/agent_harness.hpp"
#include "support/sqlite_reader.hpp"

namespace trainscope::test {

std::string pattern_series(int thread, int metric);
double pattern_value(int thread, int metric, std::int64_t step);

/// The shape of a ts-producer run: --threads, --metrics, --steps.
struct PatternShape {
    int threads;
    int metrics;
    std::int64_t steps;
    std::int64_t points() const { return threads * metrics * steps; }
    /// ts-producer's arguments for this shape, then `extra`.
    std::vector<std::string> args(const std::vector<std::string>& extra = {}) const;
};

/// Steps [first, first + steps) of one series of a run.
struct SeriesSpan {
    std::string session_id;
    int thread = 0;
    int metric = 0;
    std::int64_t steps = 0;
    std::int64_t first = 0;
    int rank = -1;  ///< -1: let the agent pick (the lowest rank)
};

/// GET .../metrics/{name}?max_points=1000000: every step of the span exactly once, each
/// with the exact value, nothing else, not downsampled.
::testing::AssertionResult rest_series_exact(const AgentHarness& h, const SeriesSpan& span);

/// The same through SQLite: COUNT(*) and COUNT(DISTINCT step) equal the step count, the
/// range matches, and every value is exact.
::testing::AssertionResult db_series_exact(SqliteReader& db, const SeriesSpan& span);

/// For a trainer killed mid-run: the stored steps are a gap-free, duplicate-free prefix
/// first..first+n-1 with exact values; sets *n.
::testing::AssertionResult db_series_prefix(SqliteReader& db, const SeriesSpan& span,
                                            std::int64_t* n);

/// SQLite holds every point of the run exactly once (db_series_exact for each series) and
/// no other point.
void expect_db_complete(const AgentHarness& h, const std::string& session_id,
                        const PatternShape& shape);

/// The trainer printed "done 0", the run became "finished", and the API and SQLite both hold
/// every point with nothing dropped. Use with ASSERT_NO_FATAL_FAILURE.
void expect_finished_complete(const AgentHarness& h, ChildProcess& trainer,
                              const std::string& session_id, const PatternShape& shape);

/// Points stored for a session, all series.
std::int64_t db_points_of(SqliteReader& db, const std::string& session_id);

}  // namespace trainscope::test
