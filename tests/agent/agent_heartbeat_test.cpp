// Proves: under OverflowPolicy::block a trainer does not hang when its agent is gone. The
// agent beats in every segment it reads; a trainer whose full ring sees no beat for the
// bound (RunOptions::agent_timeout, default 2 s) stops waiting, says so once on stderr, and
// drops and counts from then on; once an agent beats again it waits again, dropping nothing.
#include <sys/wait.h>

#include <algorithm>
#include <thread>

#include <trainscope/trainscope.hpp>

#include "agent/agent_harness.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using AgentHeartbeatTest = AgentProcessTest;

constexpr const char* kGone = "no agent has read this run";

std::size_t lines_naming(const std::vector<std::string>& lines, const std::string& text) {
    return static_cast<std::size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
}

TEST_F(AgentHeartbeatTest, BlockingTrainerFinishesWhenItsAgentIsKilled) {
    // A small ring and far more steps than it holds: the trainer waits on the agent all along.
    ChildProcess& trainer = h_.start_producer(
        {"--name", "orphan", "--threads", "2", "--steps", "3000000", "--capacity", "64", "--block"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(h_.wait_points(id, 1000));
    h_.kill_agent();

    // The default bound is 2 s; the rest of the 6 M points are then dropped at full speed.
    auto dropped = AgentHarness::done_of(trainer, 60s);
    ASSERT_TRUE(dropped) << "the blocking trainer still waits for its killed agent";
    EXPECT_GT(*dropped, 0u);
    auto status = trainer.wait_exit(10s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
    EXPECT_EQ(lines_naming(trainer.stderr_lines(), kGone), 1u) << "said once, for both threads";
}

TEST_F(AgentHeartbeatTest, BlocksAgainWhenAnAgentBeatsAgain) {
    RunOptions options;
    options.name_space = h_.name_space();
    options.autostart = false;
    options.capacity = 64;
    options.lanes = 2;  // this thread owns lane 1
    options.overflow = OverflowPolicy::block;
    options.agent_timeout = std::chrono::milliseconds(1000);
    trainscope::Run run("comeback", options);
    Metric metric = run.metric("loss");
    auto segment = h_.open_trainer_segment();
    ASSERT_TRUE(segment);
    constexpr std::int64_t kPhase = 2000;  // many rings' worth
    auto log_phase = [&](std::int64_t first) {
        for (std::int64_t s = first; s < first + kPhase; ++s) metric.log(s, static_cast<double>(s));
    };

    ::testing::internal::CaptureStderr();
    log_phase(0);  // the agent reads along: the trainer waits for it, nothing is dropped
    std::uint64_t dropped_alive = run.dropped();

    h_.kill_agent();
    log_phase(kPhase);  // returns: after 1 s without a beat the rest is dropped
    std::uint64_t dropped_gone = run.dropped();

    ASSERT_TRUE(h_.start_agent());
    std::uint64_t beat = segment->agent_beat();
    ASSERT_TRUE(wait_until([&] { return segment->agent_beat() != beat; })) << "the new agent does not beat";
    log_phase(2 * kPhase);  // the new agent reads along: waits again, drops nothing
    std::uint64_t dropped_back = run.dropped();
    std::string said = ::testing::internal::GetCapturedStderr();

    EXPECT_EQ(dropped_alive, 0u);
    EXPECT_GT(dropped_gone, 0u);
    EXPECT_LT(dropped_gone, static_cast<std::uint64_t>(kPhase));
    EXPECT_EQ(dropped_back, dropped_gone) << "dropped although an agent was reading again";
    EXPECT_EQ(lines_naming({said}, kGone), 1u) << said;

    // Every record that was not dropped is stored, exactly once.
    std::string id = run.session_id();
    run.finish();
    EXPECT_TRUE(h_.wait_status(id, "finished"));
    EXPECT_TRUE(h_.wait_points(id, 3 * kPhase - static_cast<std::int64_t>(dropped_back)));
    auto stored = h_.run(id);
    ASSERT_TRUE(stored.IsObject());
    EXPECT_EQ(stored["points"].GetInt64(), 3 * kPhase - static_cast<std::int64_t>(dropped_back));
}

}  // namespace
}  // namespace trainscope::test
