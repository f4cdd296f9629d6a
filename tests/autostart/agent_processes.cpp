#include "autostart/agent_processes.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <trainscope/detail/process.hpp>

#include "support/wait.hpp"

namespace trainscope::test {

namespace {

bool is_agent_of(pid_t pid, const std::string& ns) {
    std::vector<std::string> args = process_args(pid);
    if (args.empty() || std::filesystem::path(args[0]).filename() != "trainscope-agent")
        return false;
    std::string wanted = "--namespace=" + ns;
    return std::find(args.begin() + 1, args.end(), wanted) != args.end();
}

}  // namespace

std::vector<std::string> process_args(pid_t pid) {
    // Plain read(2): a process that exits while we read makes it fail with ESRCH, which
    // std::ifstream turns into an exception (and, in a test's destructor, an abort).
    std::string raw;
    int fd = ::open(("/proc/" + std::to_string(pid) + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[4096];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) raw.append(buf, static_cast<std::size_t>(n));
        ::close(fd);
    }
    std::vector<std::string> args;
    std::size_t start = 0;
    for (std::size_t i = 0; i < raw.size(); ++i)
        if (raw[i] == '\0') {
            args.push_back(raw.substr(start, i - start));
            start = i + 1;
        }
    if (start < raw.size()) args.push_back(raw.substr(start));
    return args;
}

bool process_running(pid_t pid) {
    return pid > 0 && detail::process_start_time(pid) != 0;  // 0: gone, zombie or dead
}

std::vector<pid_t> agent_processes(const std::string& ns) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(),
                                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            continue;
        pid_t pid = static_cast<pid_t>(std::stol(name));
        if (is_agent_of(pid, ns) && process_running(pid)) out.push_back(pid);
    }
    std::sort(out.begin(), out.end());
    return out;
}

int stop_agents(const std::string& ns, std::chrono::milliseconds grace) {
    // Done when every agent is reaped (its /proc entry gone), not merely a zombie leader: the
    // other threads of a dying agent still hold its lock and files for a moment.
    std::vector<pid_t> pids = agent_processes(ns);
    auto all_gone = [&] {
        for (pid_t pid : pids)
            if (std::filesystem::exists("/proc/" + std::to_string(pid))) return false;
        return agent_processes(ns).empty();
    };
    for (pid_t pid : pids) ::kill(pid, SIGTERM);
    if (!wait_until(all_gone, grace)) {
        for (pid_t pid : agent_processes(ns)) ::kill(pid, SIGKILL);
        wait_until(all_gone, 2s);
    }
    return static_cast<int>(pids.size());
}

}  // namespace trainscope::test
