// Starting an agent when a trainer finds none serving its namespace (seed plan 6.1).
//
// Cheap and non-blocking: one F_GETLK probe per place (detail/namespace_dir.hpp); if no
// agent holds the namespace lock, one
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
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <trainscope/detail/namespace_dir.hpp>

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
        std::fprintf(stderr, "trainscope: dashboard at %s\n", url.c_str());
}

/// Says something about starting the agent once per process: a trainer that creates many
/// Runs is not told the same thing many times.
inline void say_once(const std::string& text) {
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) std::fprintf(stderr, "trainscope: %s\n", text.c_str());
}

/// Says once per process that a place for the namespace files was not trusted (another user
/// could write it): its agent file is ignored, so no URL from it is ever printed.
inline void say_refusals_once(const std::vector<Refusal>& refusals) {
    static std::atomic<bool> said{false};
    if (refusals.empty() || said.exchange(true)) return;
    std::string text = "not trusting " + refusals.front().text();
    for (std::size_t i = 1; i < refusals.size(); ++i) text += "; nor " + refusals[i].text();
    std::fprintf(stderr, "trainscope: %s (another user could have written it); ignoring it\n", text.c_str());
}

/// The agent serving the namespace, from trusted places only; says once what it skipped.
inline AgentFound find_trusted_agent(const std::string& name_space) {
    AgentFound found = find_agent(name_space);
    say_refusals_once(found.refusals);
    return found;
}

/// Namespaces this process has started an agent for, while that start is being watched: a
/// second Run a moment later finds no lock yet and must not start a second agent.
inline std::mutex& spawning_mutex() {
    static std::mutex m;
    return m;
}
inline std::set<std::string>& spawning() {
    static std::set<std::string> names;
    return names;
}

/// Waits (on a helper thread) for an agent that holds the lock to publish its URL, then
/// announces it. For a trainer that found an agent still starting up.
inline void announce_when_listening(std::string name_space) {
    std::thread([name_space = std::move(name_space)] {
        for (int i = 0; i < 200; ++i) {
            AgentFound found = find_trusted_agent(name_space);
            if (found.pid == 0) return;
            if (!found.url.empty()) return announce_url(found.url);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }).detach();
}

/// Watches a spawned agent for a few seconds: reports an early death once, announces the
/// URL when the agent has written it, then reaps the process whenever it exits.
inline void watch_spawned_agent(pid_t pid, std::string name_space, std::string log_path) {
    std::thread([pid, name_space = std::move(name_space), log_path = std::move(log_path)] {
        auto done_spawning = [&] {
            std::lock_guard<std::mutex> lock(spawning_mutex());
            spawning().erase(name_space);
        };
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                done_spawning();
                if (find_trusted_agent(name_space).pid != 0) {  // another trainer's agent won the race
                    announce_when_listening(name_space);
                    return;
                }
                say_once("the agent exited at start (status " +
                         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                         "); training goes on without a dashboard. See " + log_path);
                return;
            }
            AgentFound found = find_trusted_agent(name_space);
            if (found.pid == pid && !found.url.empty()) {
                announce_url(found.url);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        done_spawning();
        ::waitpid(pid, nullptr, 0);
    }).detach();
}

/// Makes sure an agent serves `name_space`, starting one if needed. Never blocks for long,
/// never throws.
inline void ensure_agent(const std::string& name_space) noexcept {
    try {
        if (!autostart_enabled()) return;
        AgentFound found = find_trusted_agent(name_space);
        if (found.pid != 0) {
            if (found.url.empty()) announce_when_listening(name_space);
            else announce_url(found.url);
            return;
        }
        std::unique_lock<std::mutex> lock(spawning_mutex());
        if (!spawning().insert(name_space).second) return;  // this process is starting one
        lock.unlock();
        auto give_up = [&](const std::string& why) {
            {
                std::lock_guard<std::mutex> relock(spawning_mutex());
                spawning().erase(name_space);
            }
            say_once(why + "; training goes on without a dashboard (TRAINSCOPE_AUTOSTART=0 silences this)");
        };

        std::string data_dir = default_data_dir();
        std::error_code ec;
        std::filesystem::create_directories(data_dir, ec);
        if (ec || !std::filesystem::is_directory(data_dir, ec))
            return give_up("cannot start the agent: its data directory " + data_dir +
                           " cannot be created (" + (ec ? ec.message() : std::string("not a directory")) + ")");
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
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        // The agent outlives the trainer: it must not keep the trainer's files and sockets open.
        posix_spawn_file_actions_addclosefrom_np(&files, 3);
#endif
        // A session of its own: Ctrl-C in the trainer's terminal does not stop the agent.
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        pid_t pid = 0;
        int rc = posix_spawnp(&pid, binary.c_str(), &files, &attr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&files);
        posix_spawnattr_destroy(&attr);
        if (rc != 0)
            return give_up("cannot start the agent '" + binary + "': " + std::generic_category().message(rc) +
                           " (set TRAINSCOPE_AGENT to its path)");
        std::fprintf(stderr, "trainscope: started agent pid %d for namespace %s (log: %s)\n",
                     static_cast<int>(pid), name_space.c_str(), log_path.c_str());
        watch_spawned_agent(pid, name_space, log_path);
    } catch (...) {
        // Out of memory or a thread that cannot start: training goes on regardless.
    }
}

}  // namespace trainscope::detail
