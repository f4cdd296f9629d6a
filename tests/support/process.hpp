// A child process for multi-process tests: spawned with posix_spawn as a direct child, with
// extra environment variables, its stdout and stderr captured line by line, and stopped by
// pid (SIGTERM, then SIGKILL). The destructor stops and reaps it, so no orphan lingers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace trainscope::test {

using namespace std::chrono_literals;

class ChildProcess {
public:
    using Env = std::map<std::string, std::string>;
    using LinePredicate = std::function<bool(const std::string&)>;

    /// Starts `binary` with `args` (argv[1..]) and the parent's environment plus `env`.
    /// Throws std::runtime_error if it cannot be spawned.
    ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                 const Env& env = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }

    /// The first stdout (or stderr) line, seen so far or arriving before `timeout`, for which
    /// `match` holds; nullopt on timeout or when the stream closed without one.
    std::optional<std::string> wait_stdout(const LinePredicate& match,
                                           std::chrono::milliseconds timeout = 10s);
    std::optional<std::string> wait_stderr(const LinePredicate& match,
                                           std::chrono::milliseconds timeout = 10s);
    /// The rest of the first stdout line that starts with `prefix`.
    std::optional<std::string> wait_stdout_prefix(const std::string& prefix,
                                                  std::chrono::milliseconds timeout = 10s);

    std::vector<std::string> stdout_lines() const;
    std::vector<std::string> stderr_lines() const;

    /// True until the process has exited (reaps it if it has).
    bool running();
    /// Sends a signal without waiting (the process stays a zombie until reaped).
    void signal(int sig);
    /// Waits for exit up to `timeout`; the raw wait status, or nullopt if still running.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    /// SIGKILL and reap at once.
    void kill_now();
    /// SIGTERM, up to `grace` to exit, then SIGKILL; reaps. Returns the wait status.
    int stop(std::chrono::milliseconds grace = 5s);

private:
    struct Stream {
        int fd = -1;
        std::vector<std::string> lines;
        std::string partial;
        bool closed = false;
    };
    void pump();
    std::optional<std::string> wait_line(const Stream& s, const LinePredicate& match,
                                         std::chrono::milliseconds timeout);
    bool try_reap(int options);

    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    Stream out_, err_;
    std::thread pump_;
};

}  // namespace trainscope::test
