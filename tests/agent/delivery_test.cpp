// Proves: with the trainer and the agent as separate processes, 4 threads x 4 metrics x
// 50,000 steps under the block policy arrive exactly: every step of every series once with
// its exact value, through the REST API and in the SQLite file; the run ends "finished"
// with nothing dropped, its segment is removed, and the agent refused nothing.
#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

using DeliveryTest = AgentProcessTest;

constexpr PatternShape kShape{4, 4, 50000};

TEST_F(DeliveryTest, EightHundredThousandPointsArriveExactlyOnce) {
    ChildProcess& trainer = h_.start_producer(kShape.args({"--name", "delivery", "--block"}));
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_FALSE(id.empty());
    ASSERT_NO_FATAL_FAILURE(expect_finished_complete(h_, trainer, id, kShape));
    EXPECT_EQ(string_member(h_.run(id), "name"), "delivery");
    for (int t = 0; t < kShape.threads; ++t)
        for (int m = 0; m < kShape.metrics; ++m)
            EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{id, t, m, kShape.steps}));
    EXPECT_TRUE(h_.wait_segments_removed());
    EXPECT_TRUE(h_.agent_log_lines_naming("refusing").empty())
        << h_.agent_log_lines_naming("refusing").front();
}

}  // namespace
}  // namespace trainscope::test
