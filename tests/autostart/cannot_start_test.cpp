// An agent that cannot start: training goes on, and the SDK says why, once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "autostart/agent_processes.hpp"
#include "autostart/autostart_env.hpp"

namespace trainscope::test {
namespace {

/// A socket listening on 127.0.0.1 on a free port, closed on destruction.
class TakenPort {
public:
    TakenPort() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 4) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            ADD_FAILURE() << "cannot listen on 127.0.0.1";
        port_ = ntohs(addr.sin_port);
    }
    ~TakenPort() {
        if (fd_ >= 0) ::close(fd_);
    }
    unsigned short port() const { return port_; }

private:
    int fd_ = -1;
    unsigned short port_ = 0;
};

TEST_F(AutostartTest, MissingAgentBinaryIsReportedOnceAndTrainingGoesOn) {
    const std::string missing = "/nonexistent/trainscope-agent";
    ChildProcess& trainer = start_trainer({"--steps", "500"}, {{"TRAINSCOPE_AGENT", missing}});
    session_of(trainer);
    ASSERT_TRUE(finished_cleanly(trainer));

    std::vector<std::string> said = SdkSays::lines(trainer);
    ASSERT_EQ(said.size(), 1u) << stderr_text(trainer);
    EXPECT_NE(said[0].find("cannot start the agent '" + missing + "'"), std::string::npos) << said[0];
    EXPECT_NE(said[0].find("No such file or directory"), std::string::npos) << said[0];
    EXPECT_TRUE(agent_processes(ns()).empty());
    EXPECT_EQ(lock_holder(), 0);
}

TEST_F(AutostartTest, AgentThatDiesAtStartIsReportedOnceAndTrainingGoesOn) {
    // A binary that starts and exits 1 at once, as an agent with a broken install would.
    std::string release = scratch_path("release");
    ChildProcess& trainer = start_trainer({"--steps", "500", "--finish_when", release},
                                          {{"TRAINSCOPE_AGENT", "/bin/false"}});
    session_of(trainer);
    auto died = trainer.wait_stderr(
        [](const std::string& l) { return l.find("the agent exited at start") != std::string::npos; }, 10s);
    std::ofstream(release).put('\n');
    ASSERT_TRUE(died) << stderr_text(trainer);
    ASSERT_TRUE(finished_cleanly(trainer));

    EXPECT_NE(died->find("(status 1)"), std::string::npos) << *died;
    EXPECT_NE(died->find(agent_log_path()), std::string::npos) << "names no log: " << *died;
    EXPECT_EQ(SdkSays::lines(trainer, "exited at start").size(), 1u) << stderr_text(trainer);
    EXPECT_EQ(SdkSays::lines(trainer, "started agent").size(), 1u) << stderr_text(trainer);
    EXPECT_TRUE(SdkSays::lines(trainer, "dashboard at").empty()) << stderr_text(trainer);
}

TEST_F(AutostartTest, AgentWhosePortIsTakenIsReportedOnceAndTrainingGoesOn) {
    TakenPort taken;
    // The agent gives up while points keep arriving, as with a real trainer. How it exits
    // races its collector thread, so a few trainers in turn each start one.
    int rounds = 0;
    for (; rounds < 4 && !HasFailure(); ++rounds) {
        SCOPED_TRACE("trainer " + std::to_string(rounds));
        std::string release = scratch_path("release-" + std::to_string(rounds));
        ChildProcess& trainer = start_trainer({"--steps", "1500", "--rate", "2000", "--finish_when", release},
                                              {{"TRAINSCOPE_PORT", std::to_string(taken.port())}});
        session_of(trainer);
        auto died = trainer.wait_stderr(
            [](const std::string& l) { return l.find("the agent exited at start") != std::string::npos; }, 10s);
        std::ofstream(release).put('\n');
        ASSERT_TRUE(died) << stderr_text(trainer);
        ASSERT_TRUE(finished_cleanly(trainer));

        EXPECT_EQ(SdkSays::lines(trainer, "exited at start").size(), 1u) << stderr_text(trainer);
        EXPECT_TRUE(SdkSays::lines(trainer, "dashboard at").empty()) << stderr_text(trainer);
        // The agent exits with its reason; it is not killed by a signal on the way out.
        EXPECT_EQ(died->find("(status -1)"), std::string::npos) << "the agent crashed: " << *died;
        // The dead agent left no lock and no process behind.
        EXPECT_EQ(lock_holder(), 0);
        EXPECT_TRUE(agent_processes(ns()).empty());
    }
    // The log the SDK points to says what went wrong, each time.
    std::ifstream in(agent_log_path());
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    int reasons = 0;
    for (std::size_t at = log.find("cannot run"); at != std::string::npos; at = log.find("cannot run", at + 1))
        ++reasons;
    EXPECT_EQ(reasons, rounds) << "agent log:\n" << log;
}

TEST_F(AutostartTest, UnusableDataDirIsNamedAsTheReason) {
    // $XDG_DATA_HOME is a file: neither the data dir nor the agent's log can be made. The
    // agent binary is fine, so the reason must name the directory, not the binary.
    const std::string not_a_dir = scratch_path("not-a-dir");
    std::ofstream(not_a_dir).put('\n');
    ChildProcess& trainer = start_trainer({"--steps", "300"}, {{"XDG_DATA_HOME", not_a_dir}});
    session_of(trainer);
    ASSERT_TRUE(finished_cleanly(trainer));

    std::vector<std::string> said = SdkSays::lines(trainer);
    ASSERT_EQ(said.size(), 1u) << stderr_text(trainer);
    EXPECT_NE(said[0].find(not_a_dir + "/trainscope"), std::string::npos)
        << "the reason does not name the data dir: " << said[0];
    EXPECT_TRUE(agent_processes(ns()).empty());
}

}  // namespace
}  // namespace trainscope::test
