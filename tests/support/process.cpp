#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace trainscope::test {

namespace {

std::vector<std::string> merged_environment(const ChildProcess::Env& extra) {
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        std::string key = entry.substr(0, entry.find('='));
        if (!extra.count(key)) out.push_back(entry);
    }
    for (const auto& [key, value] : extra) out.push_back(key + "=" + value);
    return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (std::string& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

}  // namespace

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                           const Env& env) {
    int out_pipe[2], err_pipe[2];
    // O_CLOEXEC: children spawned concurrently by other tests must not inherit our pipes.
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw std::runtime_error("pipe2 failed");
    }
    std::vector<std::string> argv_strings{binary};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<std::string> env_strings = merged_environment(env);
    std::vector<char*> argv = c_strings(argv_strings), envp = c_strings(env_strings);

    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&files, out_pipe[1], 1);  // dup2 clears O_CLOEXEC
    posix_spawn_file_actions_adddup2(&files, err_pipe[1], 2);
    int rc = ::posix_spawn(&pid_, binary.c_str(), &files, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&files);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot spawn " + binary + ": " + std::strerror(rc));
    }
    out_.fd = out_pipe[0];
    err_.fd = err_pipe[0];
    pump_ = std::thread([this] { pump(); });
}

ChildProcess::~ChildProcess() {
    if (!reaped_) stop(2s);
    if (pump_.joinable()) pump_.join();
    if (out_.fd >= 0) ::close(out_.fd);
    if (err_.fd >= 0) ::close(err_.fd);
}

void ChildProcess::pump() {
    // Reads both pipes until both close (the child and anything it spawned exited).
    for (;;) {
        pollfd fds[2] = {{out_.fd, POLLIN, 0}, {err_.fd, POLLIN, 0}};
        Stream* streams[2] = {&out_, &err_};
        int open = 0;
        for (int i = 0; i < 2; ++i) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (streams[i]->closed)
                fds[i].fd = -1;
            else
                ++open;
        }
        if (open == 0) return;
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            std::lock_guard<std::mutex> lock(mutex_);
            Stream& s = *streams[i];
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                if (!s.partial.empty()) s.lines.push_back(std::move(s.partial));
                s.partial.clear();
                s.closed = true;
            } else {
                s.partial.append(buf, static_cast<std::size_t>(n));
                std::size_t nl;
                while ((nl = s.partial.find('\n')) != std::string::npos) {
                    s.lines.push_back(s.partial.substr(0, nl));
                    s.partial.erase(0, nl + 1);
                }
            }
            changed_.notify_all();
        }
    }
}

std::optional<std::string> ChildProcess::wait_line(const Stream& s, const LinePredicate& match,
                                                   std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::size_t checked = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        for (; checked < s.lines.size(); ++checked)
            if (match(s.lines[checked])) return s.lines[checked];
        if (s.closed) return std::nullopt;
        if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
            for (; checked < s.lines.size(); ++checked)
                if (match(s.lines[checked])) return s.lines[checked];
            return std::nullopt;
        }
    }
}

std::optional<std::string> ChildProcess::wait_stdout(const LinePredicate& match,
                                                     std::chrono::milliseconds timeout) {
    return wait_line(out_, match, timeout);
}

std::optional<std::string> ChildProcess::wait_stderr(const LinePredicate& match,
                                                     std::chrono::milliseconds timeout) {
    return wait_line(err_, match, timeout);
}

std::optional<std::string> ChildProcess::wait_stdout_prefix(const std::string& prefix,
                                                            std::chrono::milliseconds timeout) {
    auto line = wait_stdout([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, timeout);
    if (!line) return std::nullopt;
    return line->substr(prefix.size());
}

std::vector<std::string> ChildProcess::stdout_lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return out_.lines;
}

std::vector<std::string> ChildProcess::stderr_lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return err_.lines;
}

bool ChildProcess::try_reap(int options) {
    if (reaped_) return true;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, options);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
        reaped_ = true;
        status_ = status;
    }
    return reaped_;
}

bool ChildProcess::running() {
    return !try_reap(WNOHANG);
}

void ChildProcess::signal(int sig) {
    if (!reaped_) ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!try_reap(WNOHANG)) {
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(5ms);
    }
    return status_;
}

void ChildProcess::kill_now() {
    signal(SIGKILL);
    try_reap(0);
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
    signal(SIGTERM);
    if (!wait_exit(grace)) kill_now();
    return status_;
}

}  // namespace trainscope::test
