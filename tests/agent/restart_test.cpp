// Proves: SIGKILLing the agent while a trainer logs loses and duplicates nothing. The
// trainer keeps filling its (large) lanes — one per producer thread — while no agent runs; a
// new agent on the same data directory resumes every lane from the position committed with
// the points, so every point is stored exactly once (COUNT(*) = COUNT(DISTINCT step) = steps
// per series, values exact) and nothing is dropped.
#include <algorithm>

#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using AgentRestartTest = AgentProcessTest;

constexpr PatternShape kShape{2, 2, 100000};  // at 20,000 steps/s per thread: 5 s of logging

TEST_F(AgentRestartTest, KilledAgentResumesExactlyOnce) {
    ChildProcess& trainer =
        h_.start_producer(kShape.args({"--rate", "20000", "--capacity", "1048576"}));
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_FALSE(id.empty());
    auto segment = h_.open_trainer_segment();
    ASSERT_TRUE(segment);

    // Two outages, each while the trainer keeps logging: a backlog builds up in the ring.
    for (std::int64_t stored_before_kill : {10000, 150000}) {
        ASSERT_TRUE(h_.wait_points(id, stored_before_kill));
        h_.kill_agent();
        // 20,000 more points logged while no agent runs (fewer if the trainer ends first).
        std::uint64_t backlog_end = std::min<std::uint64_t>(
            segment->written() + 20000, static_cast<std::uint64_t>(kShape.points()));
        ASSERT_TRUE(wait_until([&] { return segment->written() >= backlog_end; }))
            << "the trainer stopped logging while the agent was down";
        ASSERT_TRUE(h_.start_agent());
    }

    ASSERT_NO_FATAL_FAILURE(expect_finished_complete(h_, trainer, id, kShape));
    // Both producer threads wrote lanes of their own: the exactly-once resume was per lane.
    EXPECT_EQ(segment->write_pos(0), 0u);
    EXPECT_GT(segment->write_pos(1), 0u);
    EXPECT_GT(segment->write_pos(2), 0u);
    EXPECT_TRUE(h_.wait_segments_removed());
}

}  // namespace
}  // namespace trainscope::test
