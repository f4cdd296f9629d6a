// Starting an agent when a trainer finds none serving its namespace (seed plan 6.1).
//
// Cheap and non-blocking: one F_GETLK probe; if no agent holds the namespace lock, one
// posix_spawn of trainscope-agent in a session of its own (it outlives the trainer), with
// its output in <data-dir>/agent-<namespace>.log. A helper thread reaps the child and, if
// the agent dies within a few seconds, says why once. If two trainers spawn at the same
// moment, the second agent finds the lock taken and exits quietly.
//
// Environment: TRAINSCOPE_AUTOSTART=0 disables it; TRAINSCOPE_AGENT names the binary
// (default: next to the trainer's executable, else on PATH); TRAINSCOPE_PORT the port.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trainscope/detail/agent_lock.hpp>

extern char** environ;

namespace trainscope::detail {

inline bool autostart_enabled() {
    const char* env = std::getenv("TRAINSCOPE_AUTOSTART");
    return !(env && (std::string(env) == "0" || std::string(env) == "false" || std::string(env) == "no"));
}

/// The agent binary: TRAINSCOPE_AGENT, else beside this executable, else "trainscope-agent"
/// looked up on PATH by posix_spawnp.
inline std::string agent_binary() {
    if (const char* env = std::getenv("TRAINSCOPE_AGENT"); env && *env) return env;
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto beside = self.parent_path() / "trainscope-agent";
        if (std::filesystem::exists(beside, ec)) return beside.string();
    }
    return "trainscope-agent";
}

/// Prints the dashboard URL once per process.
inline void announce_url(const std::string& url) {
    static std::atomic<bool> said{false};
    if (!url.empty() && !said.exchange(true))
        std::fprintf(stderr, "trainscope: dashboard at %s/\n", url.c_str());
}

/// Watches a spawned agent for a few seconds: reports an early death once, announces the
/// URL when the agent has written it, then reaps the process whenever it exits.
inline void watch_spawned_agent(pid_t pid, std::string name_space, std::string log_path) {
    std::thread([pid, name_space = std::move(name_space), log_path = std::move(log_path)] {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                if (agent_pid(name_space) != 0) {  // another trainer's agent won the race
                    announce_url(agent_url(name_space));
                    return;
                }
                std::fprintf(stderr,
                             "trainscope: the agent exited at start (status %d); training goes on "
                             "without a dashboard. See %s\n",
                             WIFEXITED(status) ? WEXITSTATUS(status) : -1, log_path.c_str());
                return;
            }
            std::string url = agent_pid(name_space) == pid ? agent_url(name_space) : "";
            if (!url.empty()) {
                announce_url(url);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ::waitpid(pid, nullptr, 0);
    }).detach();
}

/// Makes sure an agent serves `name_space`, starting one if needed. Never blocks for long,
/// never throws.
inline void ensure_agent(const std::string& name_space) noexcept {
    try {
        if (!autostart_enabled()) return;
        if (agent_pid(name_space) != 0) {
            announce_url(agent_url(name_space));
            return;
        }
        std::string data_dir = default_data_dir();
        std::error_code ec;
        std::filesystem::create_directories(data_dir, ec);
        std::string log_path = data_dir + "/agent-" + name_space + ".log";
        std::string binary = agent_binary();
        const char* port_env = std::getenv("TRAINSCOPE_PORT");
        std::string port = port_env && *port_env ? port_env : "7070";
        std::vector<std::string> args = {binary, "--namespace=" + name_space, "--port=" + port,
                                         "--data-dir=" + data_dir};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);

        posix_spawn_file_actions_t files;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&files);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&files, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&files, 1, 2);
        // A session of its own: Ctrl-C in the trainer's terminal does not stop the agent.
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        pid_t pid = 0;
        int rc = posix_spawnp(&pid, binary.c_str(), &files, &attr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&files);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) {
            std::fprintf(stderr,
                         "trainscope: cannot start the agent '%s': %s; training goes on without a "
                         "dashboard (set TRAINSCOPE_AGENT, or TRAINSCOPE_AUTOSTART=0 to silence this)\n",
                         binary.c_str(), std::generic_category().message(rc).c_str());
            return;
        }
        std::fprintf(stderr, "trainscope: started agent pid %d for namespace %s (log: %s)\n",
                     static_cast<int>(pid), name_space.c_str(), log_path.c_str());
        watch_spawned_agent(pid, name_space, log_path);
    } catch (...) {
        // Out of memory or a thread that cannot start: training goes on regardless.
    }
}

}  // namespace trainscope::detail
