// Where the user's namespace files live: the agent's lock, which also carries its URL.
//
// Only the user may be able to write there, or another user on the machine could stop our
// agent (take the lock first) or make trainers print a URL of their choosing. The places,
// in order (the first one that checks out is used; trainers and the agent walk the same list):
//   1. $XDG_RUNTIME_DIR/trainscope/  when XDG_RUNTIME_DIR is a directory owned by the
//      effective user that no group or other can write;
//   2. /dev/shm/trainscope-<euid>/;
//   3. <default data dir>/run/  (the data dir of detail::default_data_dir(), not --data-dir:
//      a trainer knows only the environment).
// Each directory must be owned by the effective user with mode 0700 (it is created so if
// missing); each file, <dir>/<namespace>.agent, a regular file owned by the effective user
// with mode 0600. Everything is opened with O_NOFOLLOW and checked with fstat on the
// descriptor, so a symlink or a file swapped in between is never trusted.
//
// The agent holds a POSIX write lock on its file for its whole life and writes "<pid> <url>\n"
// into it once it listens. A trainer tests the lock with F_GETLK, which takes nothing. The
// kernel drops the lock when the agent dies, however it dies.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trainscope::detail {

/// Where the agent keeps trainscope.db and its log: $XDG_DATA_HOME/trainscope, else
/// ~/.local/share/trainscope.
inline std::string default_data_dir() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return std::string(xdg) + "/trainscope";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.local/share/trainscope";
}

/// What the places are derived from; from the environment by default, explicit in tests.
struct NamespaceEnv {
    std::string runtime_dir;  ///< $XDG_RUNTIME_DIR ("" if unset)
    std::string data_dir;     ///< default_data_dir()
    std::string shm_dir = "/dev/shm";
};

inline NamespaceEnv namespace_env() {
    NamespaceEnv env;
    if (const char* r = std::getenv("XDG_RUNTIME_DIR"); r && *r) env.runtime_dir = r;
    env.data_dir = default_data_dir();
    return env;
}

/// Why an opened file or directory cannot be trusted, or "" if it can: it must be of the
/// wanted type, owned by the effective user, with exactly `mode` for its permission bits.
inline std::string untrusted_reason(int fd, bool directory, mode_t mode) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::string("fstat failed: ") + std::strerror(errno);
    if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        return directory ? "not a directory" : "not a regular file";
    if (st.st_uid != ::geteuid())
        return "owned by uid " + std::to_string(st.st_uid) + ", not by this user (uid " +
               std::to_string(::geteuid()) + ")";
    if ((st.st_mode & 07777) != mode) {
        char text[64];
        std::snprintf(text, sizeof text, "mode %04o, not %04o",
                      static_cast<unsigned>(st.st_mode & 07777), static_cast<unsigned>(mode));
        return text;
    }
    return "";
}

/// The reason `open` failed on `path`, naming a symlink as such (O_NOFOLLOW gives ELOOP).
inline std::string open_failure(int error) {
    if (error == ELOOP) return "it is a symbolic link";
    return std::strerror(error);
}

/// Checks directory `path` is ours alone (0700, owned by the effective user), making it if
/// `create` and it is missing. Returns "" if usable, else why not; *missing tells a
/// directory that does not exist (nothing refused: there is simply nothing there).
inline std::string check_private_dir(const std::string& path, bool create,
                                     bool* missing = nullptr) {
    if (missing) *missing = false;
    int mkdir_error = 0;
    if (create) {
        if (::mkdir(path.c_str(), 0700) == 0) {
            // mkdir's mode is narrowed by the umask; ours must be exactly 0700.
            if (::chmod(path.c_str(), 0700) != 0)
                return std::string("chmod failed: ") + std::strerror(errno);
        } else {
            mkdir_error = errno;
        }
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int error = errno;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {  // nothing there (or a parent is no directory)
            if (missing) *missing = true;
            return std::string("cannot be created: ") +
                   std::strerror(mkdir_error ? mkdir_error : error);
        }
        if (S_ISLNK(st.st_mode)) return "it is a symbolic link";
        if (!S_ISDIR(st.st_mode)) return "not a directory";
        return open_failure(error);
    }
    std::string why = untrusted_reason(fd, true, 0700);
    ::close(fd);
    return why;
}

/// True if `path` is a directory owned by the effective user that group and others cannot
/// write ($XDG_RUNTIME_DIR is usually 0700, but only these bits matter).
inline bool user_only_writable_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
              (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
    ::close(fd);
    return ok;
}

/// The directories that may hold the namespace files, best first.
inline std::vector<std::string> namespace_dirs(const NamespaceEnv& env = namespace_env()) {
    std::vector<std::string> dirs;
    if (!env.runtime_dir.empty() && user_only_writable_dir(env.runtime_dir))
        dirs.push_back(env.runtime_dir + "/trainscope");
    dirs.push_back(env.shm_dir + "/trainscope-" + std::to_string(::geteuid()));
    dirs.push_back(env.data_dir + "/run");
    return dirs;
}

/// The agent file of namespace `ns` in directory `dir`: its lock and its URL.
inline std::string agent_file_path(const std::string& dir, const std::string& ns) {
    return dir + "/" + ns + ".agent";
}

/// A place that was not trusted, and why: for the one log line that says so.
struct Refusal {
    std::string path;
    std::string reason;
    std::string text() const { return path + ": " + reason; }
};

/// What a trainer (or --print-url) finds for a namespace.
struct AgentFound {
    long pid = 0;                   ///< holder of the lock; 0: no agent serves the namespace
    std::string url;                ///< "" until the agent has written it
    std::string path;               ///< the agent file it was found in
    std::vector<Refusal> refusals;  ///< places skipped because they are not the user's alone
};

/// Reads "<pid> <url>\n" from the agent file: the URL, if written whole by agent `pid`.
inline std::string read_agent_url(int fd, long pid) {
    char buf[512];
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return "";
    std::string text(buf, static_cast<std::size_t>(n));
    std::string prefix = std::to_string(pid) + " ";
    // Written by the lock holder, and completely (the newline comes last).
    if (text.compare(0, prefix.size(), prefix) != 0 || text.back() != '\n') return "";
    std::string url = text.substr(prefix.size(), text.size() - prefix.size() - 1);
    return url.find_first_of(" \n") == std::string::npos ? url : "";
}

/// Looks for the agent serving `ns` in each place in turn, trusting only files and
/// directories that are the user's alone; creates nothing. Never throws for I/O.
inline AgentFound find_agent(const std::string& ns,
                             const std::vector<std::string>& dirs = namespace_dirs()) {
    AgentFound found;
    for (const std::string& dir : dirs) {
        bool missing = false;
        std::string why = check_private_dir(dir, false, &missing);
        if (missing) continue;
        if (!why.empty()) {
            found.refusals.push_back({dir, why});
            continue;
        }
        std::string path = agent_file_path(dir, ns);
        int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) found.refusals.push_back({path, open_failure(errno)});
            continue;
        }
        why = untrusted_reason(fd, false, 0600);
        if (!why.empty()) {
            found.refusals.push_back({path, why});
            ::close(fd);
            continue;
        }
        struct flock probe {};
        probe.l_type = F_WRLCK;
        probe.l_whence = SEEK_SET;
        if (::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) {
            found.pid = probe.l_pid;
            found.url = read_agent_url(fd, found.pid);
            found.path = path;
            ::close(fd);
            return found;
        }
        ::close(fd);  // a file left by an agent that died: nobody serves from here
    }
    return found;
}

}  // namespace trainscope::detail
