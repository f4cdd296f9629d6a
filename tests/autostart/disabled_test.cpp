// TRAINSCOPE_AUTOSTART=0 (or false, no): the trainer starts no agent and trains to the end.
#include <filesystem>
#include <fstream>

#include "autostart/agent_processes.hpp"
#include "autostart/autostart_env.hpp"
#include "support/shm_names.hpp"

namespace trainscope::test {
namespace {

class AutostartOff : public AutostartTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(AutostartOff, TrainerStartsNoAgentAndTrainsToTheEnd) {
    std::string release = scratch_path("release");
    ChildProcess& trainer = start_trainer({"--steps", "500", "--finish_when", release},
                                          {{"TRAINSCOPE_AUTOSTART", GetParam()}});
    session_of(trainer);
    ASSERT_TRUE(trainer.wait_stdout_prefix("done ", 10s));

    // posix_spawn returns after the exec: had the Run started an agent, it would show now.
    EXPECT_TRUE(agent_processes(ns()).empty());
    EXPECT_EQ(lock_holder(), 0);
    EXPECT_FALSE(lock_file_exists());
    EXPECT_FALSE(std::filesystem::exists(agent_log_path()));

    std::ofstream(release).put('\n');
    ASSERT_TRUE(finished_cleanly(trainer));
    EXPECT_TRUE(SdkSays::lines(trainer).empty()) << "the SDK said: " << SdkSays::lines(trainer).front();
    // Nobody drained it: the finished trainer's segment waits for an agent.
    EXPECT_EQ(trainer_segments(ns()).size(), 1u);
    EXPECT_TRUE(agent_processes(ns()).empty());
}

INSTANTIATE_TEST_SUITE_P(Env, AutostartOff, ::testing::Values("0", "false", "no"));

}  // namespace
}  // namespace trainscope::test
