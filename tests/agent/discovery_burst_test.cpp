// Proves: a new Run is attached the moment its segment appears (inotify on the shared-memory
// directory), not at the next periodic scan. A trainer whose 8 threads log 50,000 points
// each as fast as they can, right after Run(), into the default lanes (8 x 65,536 slots,
// lane 0 shared by the eighth thread and... no one else) loses nothing: every point is
// stored exactly once and the trainer reports no drop.
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
