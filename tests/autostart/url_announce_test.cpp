// A trainer that finds an agent still starting up (it holds the namespace lock but does not
// listen yet) starts none, and prints the dashboard URL once the agent has published it.
// This is what every trainer but the first sees when several start together (the ranks of a
// job on one machine), made deterministic: the test itself plays the starting agent.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "autostart/autostart_env.hpp"

namespace trainscope::test {
namespace {

/// Holds the namespace lock the way an agent does between starting and listening.
class StartingAgent {
public:
    StartingAgent(const std::string& dir, const std::string& path) : path_(path) {
        if (!detail::check_private_dir(dir, true).empty()) return;
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        held_ = fd_ >= 0 && ::fcntl(fd_, F_SETLK, &lock) == 0;
    }
    ~StartingAgent() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool held() const { return held_; }
    /// What the agent writes once it listens: "<pid> <url>".
    bool publish(const std::string& url) {
        std::string text = std::to_string(::getpid()) + " " + url + "\n";
        return ::pwrite(fd_, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size());
    }

private:
    std::string path_;
    int fd_ = -1;
    bool held_ = false;
};

TEST_F(AutostartTest, TrainerThatFindsAStartingAgentPrintsItsUrlOnceItListens) {
    StartingAgent agent(runtime_dir() + "/trainscope", agent_file());
    ASSERT_TRUE(agent.held());
    const std::string release = scratch_path("release");
    ChildProcess& trainer = start_trainer({"--steps", "300", "--finish_when", release});
    session_of(trainer);  // the Run exists: it has looked for an agent and found ours
    ASSERT_TRUE(agent.publish("http://127.0.0.1:45678"));

    auto port = SdkSays::dashboard_port(trainer, 10s);
    std::ofstream(release).put('\n');
    ASSERT_TRUE(finished_cleanly(trainer));
    EXPECT_EQ(port, std::optional<unsigned short>(45678))
        << "the trainer never printed the URL its agent published";
    EXPECT_TRUE(SdkSays::lines(trainer, "started agent").empty());
    EXPECT_LE(SdkSays::lines(trainer, "dashboard at").size(), 1u);
}

}  // namespace
}  // namespace trainscope::test
