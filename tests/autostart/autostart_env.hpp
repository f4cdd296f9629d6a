// The bench for autostart tests: a namespace, an $XDG_DATA_HOME and an $XDG_RUNTIME_DIR (where
// the agent's lock and URL live) of the test's own, trainers
// (ts-producer) spawned with the environment that lets the SDK start the built agent on a
// free port, and the clean-up autostart needs: every agent of the namespace is stopped by pid
// (they are not our children), its /dev/shm files and data directory removed.
#pragma once

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <trainscope/detail/namespace_dir.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/shm_names.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::test {

/// What the SDK says on a trainer's stderr about its agent.
struct SdkSays {
    /// N of "trainscope: started agent pid N ..." (the first such line).
    static std::optional<pid_t> started_agent(ChildProcess& trainer,
                                              std::chrono::milliseconds timeout = 10s);
    /// PORT of "trainscope: dashboard at http://127.0.0.1:PORT/".
    static std::optional<unsigned short> dashboard_port(ChildProcess& trainer,
                                                        std::chrono::milliseconds timeout = 10s);
    /// The stderr lines seen so far that start with "trainscope: " and contain `text`.
    static std::vector<std::string> lines(const ChildProcess& trainer, const std::string& text = "");
};

/// Every stderr line of a process so far, one per indented line: for failure messages.
std::string stderr_text(const ChildProcess& process);

/// PORT of "http://127.0.0.1:PORT" (with or without a path and query after it); nullopt otherwise.
std::optional<unsigned short> port_of_url(const std::string& url);

/// The URL an agent of these tests publishes: "http://127.0.0.1:PORT/?token=<test_token()>".
std::string own_agent_url(unsigned short port);

class AutostartTest : public ::testing::Test {
protected:
    AutostartTest();
    ~AutostartTest() override;
    /// Stops trainers, then every agent of the namespace; fails if an agent ignored SIGTERM.
    void TearDown() override;

    const std::string& ns() const { return ns_.name(); }
    /// $XDG_DATA_HOME/trainscope: where an autostarted agent keeps its database and log.
    std::string data_dir() const { return xdg_.path() + "/trainscope"; }
    std::string agent_log_path() const { return data_dir() + "/agent-" + ns() + ".log"; }
    /// A path in the test's own temporary directory (for --finish_when files and the like).
    std::string scratch_path(const std::string& name) const { return xdg_.path() + "/" + name; }

    /// $XDG_RUNTIME_DIR of the test's trainers and agents (0700, ours).
    const std::string& runtime_dir() const { return runtime_.path(); }
    /// What the SDK derives the places for the namespace files from, in this test's environment.
    detail::NamespaceEnv namespace_env() const { return {runtime_dir(), data_dir(), "/dev/shm"}; }
    /// Where the agent file of this namespace goes when nothing is amiss:
    /// $XDG_RUNTIME_DIR/trainscope/<ns>.agent.
    std::string agent_file() const { return detail::agent_file_path(runtime_dir() + "/trainscope", ns()); }

    /// The trainer environment: this namespace, data home and runtime dir, TRAINSCOPE_PORT=0, the built
    /// agent, autostart on, rank 0 and no run id; then `extra` on top.
    ChildProcess::Env trainer_env(const ChildProcess::Env& extra = {}) const;
    /// Starts ts-producer with `args` and trainer_env(extra).
    ChildProcess& start_trainer(const std::vector<std::string>& args,
                                const ChildProcess::Env& extra = {});
    /// Starts any `binary` (a wrapper that runs a trainer) with trainer_env(extra).
    ChildProcess& start_with_trainer_env(const std::string& binary, const std::vector<std::string>& args,
                                         const ChildProcess::Env& extra = {});
    /// Starts the agent as our own child on --port=0 with this namespace and data dir, and
    /// waits for it to listen; returns its port (0 with a failure if it does not listen).
    unsigned short start_own_agent();

    /// Pid holding the namespace's agent lock (0: none), and the URL written in its agent
    /// file, as a trainer of this test finds them.
    long lock_holder() const;
    std::string lock_url() const;
    /// True if an agent file of the namespace exists in any of its places.
    bool lock_file_exists() const;

    /// What `trainscope-agent --print-url --namespace=<ns>` says in the trainer environment.
    struct PrintUrl {
        int exit_code = -1;
        std::vector<std::string> out, err;
    };
    PrintUrl print_url(const ChildProcess::Env& extra = {}) const;

    /// "session <id>" of a trainer; "" with a failure if it prints none.
    static std::string session_of(ChildProcess& trainer);
    /// Waits for exit and for the end of its output; true if it exited 0 after printing
    /// "done 0". After it, stdout_lines() and stderr_lines() hold everything it wrote.
    static ::testing::AssertionResult finished_cleanly(ChildProcess& trainer,
                                                      std::chrono::milliseconds timeout = 15s);

private:
    ShmNamespace ns_;
    TempDir xdg_;
    TempDir runtime_;
    std::unique_ptr<ChildProcess> own_agent_;
    std::vector<std::unique_ptr<ChildProcess>> trainers_;
};

}  // namespace trainscope::test
