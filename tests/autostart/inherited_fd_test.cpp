// The autostarted agent lives on after the trainer, so it must not keep what the trainer had
// open: a descriptor without close-on-exec (an open file, a pipe to a launcher, a listening
// socket of the job) would stay open, or its port bound, for as long as the agent runs.
#include <unistd.h>

#include <filesystem>

#include "autostart/agent_processes.hpp"
#include "autostart/autostart_env.hpp"

namespace trainscope::test {
namespace {

/// Paths the process's descriptors name (readlink of /proc/<pid>/fd/*).
std::vector<std::string> open_paths(pid_t pid) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        auto target = std::filesystem::read_symlink(fd.path(), ec);
        if (!ec) out.push_back(target.string());
    }
    return out;
}

TEST_F(AutostartTest, AgentKeepsNoDescriptorTheTrainerHadOpen) {
    // The trainer runs with descriptor 3 open on a file, without close-on-exec.
    const std::string held = scratch_path("held-by-trainer");
    ChildProcess& trainer = start_with_trainer_env(
        "/bin/sh", {"-c", "exec 3>\"$0\"; exec \"$@\"", held, TS_PRODUCER_BIN, "--steps", "1000", "--rate", "500"});
    auto pid = SdkSays::started_agent(trainer);
    ASSERT_TRUE(pid);
    ASSERT_TRUE(SdkSays::dashboard_port(trainer));
    for (const std::string& path : open_paths(*pid))
        EXPECT_NE(path, held) << "agent " << *pid << " inherited the trainer's descriptor on " << held;
    ASSERT_TRUE(finished_cleanly(trainer));
}

}  // namespace
}  // namespace trainscope::test
