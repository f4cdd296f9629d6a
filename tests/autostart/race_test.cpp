// Trainers started at the same moment, none finding an agent: each may spawn one, but in the
// end exactly one agent serves the namespace and it stores every run.
#include <chrono>

#include "autostart/agent_processes.hpp"
#include "autostart/autostart_env.hpp"
#include "autostart/rest.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

constexpr int kTrainers = 4;

class AutostartRace : public AutostartTest {
protected:
    /// Starts kTrainers trainers that all create their Run at the same wall-clock moment.
    void start_together(const std::vector<std::string>& args) {
        auto now = std::chrono::system_clock::now().time_since_epoch();
        long long at = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() + 500;
        for (int i = 0; i < kTrainers; ++i) {
            std::vector<std::string> a = args;
            a.insert(a.end(), {"--name", "racer" + std::to_string(i), "--start_at", std::to_string(at)});
            trainers.push_back(&start_trainer(a));
        }
        for (ChildProcess* t : trainers) sessions.push_back(session_of(*t));
    }

    /// Waits until exactly one agent of the namespace is left; its pid, or 0 with a failure.
    pid_t the_one_agent() {
        std::vector<pid_t> agents;
        bool one = wait_until([&] { return (agents = agent_processes(ns())).size() == 1; }, 10s);
        EXPECT_TRUE(one) << agents.size() << " agents serve namespace " << ns();
        return one ? agents.front() : 0;
    }

    std::vector<ChildProcess*> trainers;
    std::vector<std::string> sessions;
};

TEST_F(AutostartRace, TrainersStartedAtOnceEndWithOneAgentStoringEveryRun) {
    start_together({"--steps", "500", "--rate", "500"});
    for (ChildProcess* t : trainers) ASSERT_TRUE(finished_cleanly(*t));

    pid_t agent = the_one_agent();
    ASSERT_NE(agent, 0);
    EXPECT_EQ(lock_holder(), agent);
    auto port = port_of_url(lock_url());
    ASSERT_TRUE(port) << "lock file URL: " << lock_url();
    for (const std::string& session : sessions)
        EXPECT_TRUE(wait_run_stored(*port, session, "finished", 500));

    // Every agent a trainer started either is the one serving, or has exited.
    int started = 0;
    for (ChildProcess* t : trainers)
        if (auto pid = SdkSays::started_agent(*t, 0ms)) {
            ++started;
            EXPECT_TRUE(*pid == agent || !process_running(*pid)) << "agent " << *pid << " lingers";
        }
    EXPECT_GE(started, 1);
    RecordProperty("agents_started", started);
}

}  // namespace
}  // namespace trainscope::test
