// Proves: a trainer segment truncated (by another process) while the agent has it attached
// and is draining it does not kill the agent with SIGBUS: the agent keeps serving, that run
// ends "crashed" with a "segment_truncated" event and one log line that say what happened,
// and another trainer's run in the same namespace goes on and arrives whole.
#include <unistd.h>

#include <fstream>

#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using TruncatedSegmentTest = AgentProcessTest;

std::string segment_of(const std::string& ns, pid_t pid) {
    for (const std::string& name : trainer_segments(ns))
        if (name.find("." + std::to_string(pid) + ".") != std::string::npos) return name;
    return "";
}

TEST_F(TruncatedSegmentTest, TruncatedWhileDrainedEndsItsRunCrashedAndTheAgentLives) {
    TempDir flags;
    const std::string finish = flags.path() + "/finish";
    ChildProcess& steady = h_.start_producer({"--name", "steady", "--threads", "1", "--metrics",
                                              "1", "--steps", "2000", "--finish_when", finish});
    std::string steady_id = AgentHarness::session_of(steady);
    ChildProcess& victim = h_.start_producer(
        {"--threads", "2", "--metrics", "2", "--steps", "1000000", "--rate", "20000"});
    std::string victim_id = AgentHarness::session_of(victim);
    std::string segment = segment_of(h_.name_space(), victim.pid());
    ASSERT_NE(segment, "");
    ASSERT_TRUE(h_.wait_points(victim_id, 5000));  // attached and being drained

    // Another process shrinks it to a few KB: the lane table and every lane are gone. (The
    // trainer itself may die of SIGBUS on its next record: that is its problem, not ours.)
    ASSERT_EQ(::truncate(shm_path(segment).c_str(), 4096), 0);

    EXPECT_TRUE(h_.wait_status(victim_id, "crashed"));
    EXPECT_TRUE(h_.agent().running()) << "the agent died";
    EXPECT_EQ(h_.get("/healthz").status, 200);
    rapidjson::Document events = h_.get_json("/api/runs/" + victim_id + "/events");
    std::string truncated_text;
    if (events.IsObject())
        for (const auto& e : events["events"].GetArray())
            if (std::string(e["kind"].GetString()) == "segment_truncated")
                truncated_text = e["text"].GetString();
    EXPECT_NE(truncated_text.find("segment " + segment + " was truncated to 4096 bytes"),
              std::string::npos)
        << "event: " << truncated_text;
    EXPECT_NE(truncated_text.find("remaining points are lost"), std::string::npos)
        << truncated_text;
    std::vector<std::string> lines = h_.agent_log_lines_naming(segment);
    bool logged = false;
    for (const std::string& line : lines)
        logged = logged || line.find("truncated to 4096 bytes") != std::string::npos;
    EXPECT_TRUE(logged) << "no log line says " << segment << " was truncated";

    // The other run was not disturbed: it finishes and every point is there.
    std::ofstream(finish).put('\n');
    EXPECT_TRUE(h_.wait_status(steady_id, "finished"));
    EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{steady_id, 0, 0, 2000}));
    // A trainer started afterwards is collected as usual.
    ChildProcess& later =
        h_.start_producer({"--threads", "1", "--metrics", "1", "--steps", "1000"});
    std::string later_id = AgentHarness::session_of(later);
    ASSERT_TRUE(AgentHarness::done_of(later));
    EXPECT_TRUE(h_.wait_status(later_id, "finished"));
    EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{later_id, 0, 0, 1000}));
    victim.kill_now();
}

}  // namespace
}  // namespace trainscope::test
