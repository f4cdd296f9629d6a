// A trainer that finds no agent starts one; the agent outlives it and serves the trainers
// that come after; an agent killed hard is replaced by the next trainer; a trainer that finds
// an agent starts none.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "autostart/agent_processes.hpp"
#include "autostart/autostart_env.hpp"
#include "autostart/rest.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs long enough (about 2 s) for its agent to come up while it still trains.
const std::vector<std::string> kTwoSeconds = {"--steps", "1000", "--rate", "500"};

TEST_F(AutostartTest, TrainerWithNoAgentStartsOneThatOutlivesIt) {
    ASSERT_TRUE(agent_processes(ns()).empty());
    auto spawned = std::chrono::steady_clock::now();
    ChildProcess& trainer = start_trainer(kTwoSeconds);
    std::string session = session_of(trainer);
    // Recorded, never asserted: Run construction (including the agent's spawn), seen from here.
    RecordProperty("run_constructed_ms",
                   static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - spawned).count()));

    auto pid = SdkSays::started_agent(trainer);
    ASSERT_TRUE(pid) << "no \"started agent pid\" line; stderr:" << stderr_text(trainer);
    auto port = SdkSays::dashboard_port(trainer);
    ASSERT_TRUE(port) << "no \"dashboard at\" line; stderr:" << stderr_text(trainer);

    // The started process is this namespace's agent: it holds the lock, in a session of its own.
    EXPECT_EQ(agent_processes(ns()), std::vector<pid_t>{*pid});
    EXPECT_EQ(lock_holder(), *pid);
    EXPECT_EQ(port_of_url(lock_url()), port);
    EXPECT_EQ(::getsid(*pid), *pid) << "the agent shares the trainer's session (Ctrl-C would stop it)";

    HttpResponse health = http_get(*port, "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(string_member(parse_json(health.body), "status"), "ok") << health.body;

    ASSERT_TRUE(finished_cleanly(trainer));
    EXPECT_TRUE(wait_run_stored(*port, session, "finished", 1000));

    // The trainer is gone; the agent is not.
    EXPECT_TRUE(process_running(*pid));
    EXPECT_EQ(http_get(*port, "/healthz").status, 200);
    EXPECT_EQ(lock_holder(), *pid);

    // Its output went to the log in the data dir (which also holds the database).
    ASSERT_TRUE(std::filesystem::exists(agent_log_path())) << agent_log_path();
    EXPECT_NE(read_file(agent_log_path()).find("listening on http://127.0.0.1:" + std::to_string(*port)),
              std::string::npos)
        << read_file(agent_log_path());
    EXPECT_TRUE(std::filesystem::exists(data_dir() + "/trainscope.db"));

    // Said once each.
    EXPECT_EQ(SdkSays::lines(trainer, "started agent").size(), 1u) << stderr_text(trainer);
    EXPECT_EQ(SdkSays::lines(trainer, "dashboard at").size(), 1u) << stderr_text(trainer);
}

TEST_F(AutostartTest, NextTrainerUsesTheAgentTheFirstStarted) {
    ChildProcess& first = start_trainer(kTwoSeconds);
    auto pid = SdkSays::started_agent(first);
    auto port = SdkSays::dashboard_port(first);
    ASSERT_TRUE(pid && port) << stderr_text(first);
    ASSERT_TRUE(finished_cleanly(first));

    ChildProcess& second = start_trainer({"--steps", "300"});
    std::string session = session_of(second);
    EXPECT_EQ(SdkSays::dashboard_port(second), port) << stderr_text(second);
    ASSERT_TRUE(finished_cleanly(second));
    EXPECT_TRUE(SdkSays::lines(second, "started agent").empty()) << stderr_text(second);
    EXPECT_TRUE(wait_run_stored(*port, session, "finished", 300));
    EXPECT_EQ(agent_processes(ns()), std::vector<pid_t>{*pid});
}

TEST_F(AutostartTest, AgentKilledHardIsReplacedByTheNextTrainer) {
    ChildProcess& first = start_trainer(kTwoSeconds);
    std::string first_session = session_of(first);
    auto old_pid = SdkSays::started_agent(first);
    auto old_port = SdkSays::dashboard_port(first);
    ASSERT_TRUE(old_pid && old_port) << stderr_text(first);
    ASSERT_TRUE(finished_cleanly(first));
    ASSERT_TRUE(wait_run_stored(*old_port, first_session, "finished", 1000));

    ASSERT_EQ(::kill(*old_pid, SIGKILL), 0);
    ASSERT_TRUE(wait_until([&] { return !process_running(*old_pid); }, 5s));
    // SIGKILL leaves the lock file (with the dead agent's URL), but no lock: the kernel drops
    // it once the last thread is gone (the leader shows as a zombie a little earlier).
    EXPECT_TRUE(lock_file_exists());
    ASSERT_TRUE(wait_until([&] { return lock_holder() == 0; }, 5s)) << "held by " << lock_holder();

    ChildProcess& second = start_trainer(kTwoSeconds);
    std::string second_session = session_of(second);
    auto new_pid = SdkSays::started_agent(second);
    ASSERT_TRUE(new_pid) << "the stale lock file stopped the restart:" << stderr_text(second);
    EXPECT_NE(*new_pid, *old_pid);
    auto new_port = SdkSays::dashboard_port(second);
    ASSERT_TRUE(new_port) << stderr_text(second);
    EXPECT_EQ(port_of_url(lock_url()), new_port) << "the trainer printed a stale URL";
    ASSERT_TRUE(finished_cleanly(second));
    EXPECT_TRUE(wait_run_stored(*new_port, second_session, "finished", 1000));
    // Same data dir: the new agent also serves what the old one stored.
    EXPECT_TRUE(wait_run_stored(*new_port, first_session, "finished", 1000, 1s));
    EXPECT_EQ(agent_processes(ns()), std::vector<pid_t>{*new_pid});
}

TEST_F(AutostartTest, TrainerThatFindsAnAgentStartsNone) {
    unsigned short port = start_own_agent();
    ASSERT_NE(port, 0);
    std::vector<pid_t> before = agent_processes(ns());
    ASSERT_EQ(before.size(), 1u);

    ChildProcess& trainer = start_trainer({"--steps", "300"});
    std::string session = session_of(trainer);
    EXPECT_EQ(SdkSays::dashboard_port(trainer), port) << stderr_text(trainer);
    ASSERT_TRUE(finished_cleanly(trainer));
    EXPECT_TRUE(SdkSays::lines(trainer, "started agent").empty()) << stderr_text(trainer);
    EXPECT_TRUE(wait_run_stored(port, session, "finished", 300));
    EXPECT_EQ(agent_processes(ns()), before);
}

}  // namespace
}  // namespace trainscope::test
