// Proves: a burst logged right after Run() is stored completely. 8 threads log 50,000 points
// each, as fast as they can, into the default lanes (8 x 65,536 slots: it fits). The first
// threads often finish before the last ones start; before, the last thread then took over an
// exited thread's lane still holding its 50,000 undrained points, and with the agent finding
// the segment only at its next 50 ms scan, 34,464 points were dropped in about one run of
// three. Now the agent attaches at once (inotify) and an undrained lane is not handed on
// while lane 0 has more room: every point is stored exactly once and the trainer reports no
// drop.
#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"

namespace trainscope::test {
namespace {

using DiscoveryBurstTest = AgentProcessTest;

TEST_F(DiscoveryBurstTest, BurstRightAfterRunStartIsStoredCompletely) {
    const PatternShape shape{8, 1, 50000};
    ChildProcess& trainer = h_.start_producer(shape.args({"--name", "burst"}));
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_FALSE(id.empty());
    ASSERT_NO_FATAL_FAILURE(expect_finished_complete(h_, trainer, id, shape));
}

}  // namespace
}  // namespace trainscope::test
