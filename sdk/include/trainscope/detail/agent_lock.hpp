// How a trainer tells whether an agent serves its namespace, and where it listens.
//
// The agent holds a POSIX write lock on /dev/shm/<namespace>.agent for its whole life and
// writes "<pid> <url>" into it once it listens. A trainer tests the lock with F_GETLK, which
// takes nothing, so a check can never stop an agent from starting. The kernel drops the
// lock when the agent dies, however it dies.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <trainscope/detail/process.hpp>

namespace trainscope::detail {

inline std::string agent_lock_path(const std::string& name_space) {
    return "/dev/shm/" + segment_prefix(name_space) + "agent";
}

/// The pid of the agent holding the namespace's lock, or 0 if none does.
inline long agent_pid(const std::string& name_space) {
    int fd = ::open(agent_lock_path(name_space).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    long pid = 0;
    if (::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) pid = probe.l_pid;
    ::close(fd);
    return pid;
}

/// The URL the serving agent wrote into its lock file, or "" if it has not yet.
inline std::string agent_url(const std::string& name_space) {
    std::FILE* f = std::fopen(agent_lock_path(name_space).c_str(), "r");
    if (!f) return "";
    char buf[256] = {0};
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    std::string text(buf, n);
    std::size_t space = text.find(' ');
    if (space == std::string::npos) return "";
    std::string url = text.substr(space + 1);
    while (!url.empty() && (url.back() == '\n' || url.back() == ' ')) url.pop_back();
    return url;
}

/// Where the agent keeps trainscope.db and its log: $XDG_DATA_HOME/trainscope, else
/// ~/.local/share/trainscope.
inline std::string default_data_dir() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return std::string(xdg) + "/trainscope";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.local/share/trainscope";
}

}  // namespace trainscope::detail
