// Proves: an agent drains only its own namespace. Segments are named "<ns>.<pid>.<n>", so a
// trainer of namespace "<ns>.sub" makes "<ns>.sub.<pid>.<n>", which starts with "<ns>." too;
// the agent of "<ns>" took it for its own, stored the other namespace's run and released its
// slots, racing that namespace's own agent for the same points.
#include <trainscope/detail/process.hpp>

#include "agent/agent_harness.hpp"

namespace trainscope::test {
namespace {

TEST(NestedNamespace, AnAgentLeavesTheSegmentsOfANamespaceThatExtendsItsName) {
    AgentHarness h;
    ASSERT_TRUE(h.start_agent());
    const std::string other = h.name_space() + ".sub";
    ChildProcess outsider(TS_PRODUCER_BIN, {"--name", "outsider", "--steps", "100", "--loss_only", "--hold_ms", "1500"},
                          {{"TRAINSCOPE_NAMESPACE", other}, {"TRAINSCOPE_AUTOSTART", "0"}});
    std::string outsider_id = AgentHarness::session_of(outsider);
    ChildProcess& own = h.start_producer({"--name", "own", "--steps", "100", "--loss_only"});
    std::string own_id = AgentHarness::session_of(own);
    ASSERT_TRUE(h.wait_status(own_id, "finished"));  // the agent has scanned since the outsider started
    EXPECT_EQ(h.get("/api/runs/" + outsider_id).status, 404) << "the agent stored another namespace's run";
    EXPECT_TRUE(h.agent_log_lines_naming(other).empty()) << "nor is its segment a refusal to log";
    outsider.stop(5s);
    remove_shm_files(other);
}

TEST(NestedNamespace, WhichNamesBelongToALongerNamespace) {
    using detail::of_longer_namespace;
    EXPECT_FALSE(of_longer_namespace("ns.123.0", "ns")) << "its own segment";
    EXPECT_TRUE(of_longer_namespace("ns.sub.123.0", "ns"));
    EXPECT_TRUE(of_longer_namespace("ns.a.b.7.12", "ns"));
    // Not a segment name of any namespace: the agent looks at it (and refuses it, logged).
    EXPECT_FALSE(of_longer_namespace("ns.3", "ns"));
    EXPECT_FALSE(of_longer_namespace("ns.agent", "ns"));
    EXPECT_FALSE(of_longer_namespace("ns.sub.x.0", "ns"));
    EXPECT_TRUE(of_longer_namespace("ns..1.2", "ns")) << "namespace \"ns.\"";
}

}  // namespace
}  // namespace trainscope::test
