#include "plugins/plugin_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trainscope::agent {

namespace {

std::string octal_mode(mode_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

/// Why an opened file must not be loaded, or "" if it may.
std::string refusal_of(const struct stat& st) {
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? "a directory, not a library file" : "not a regular file";
    uid_t self = geteuid();
    if (st.st_uid != self && st.st_uid != 0)
        return "owned by uid " + std::to_string(st.st_uid) + ", not by the agent's user (uid " +
               std::to_string(self) +
               ") or root: another user could change the code the agent runs";
    if (st.st_mode & S_IWOTH)
        return "world-writable (mode " + octal_mode(st.st_mode) +
               "): anyone could change the code the agent runs (chmod go-w it)";
    if (st.st_mode & S_IWGRP)
        return "group-writable (mode " + octal_mode(st.st_mode) +
               "): others in its group could change the code the agent runs (chmod g-w it)";
    return "";
}

}  // namespace

PluginFile open_plugin_file(const std::string& path) {
    // A symlink is refused, not resolved: checking its target would still leave the choice of
    // what gets loaded to whoever can change the link or any directory on the target's way,
    // and dlopen runs a library's constructors before the entry point could be checked.
    // A plugin is installed by copying the .so into the directory. O_NONBLOCK: a FIFO named
    // x.so must not hang the agent's start.
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        struct stat link {};
        if (err == ELOOP && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode))
            return {-1,
                    "a symbolic link: plugins are loaded only from regular files (copy the library "
                    "into the plugins directory instead)"};
        return {-1, std::string("cannot open: ") + std::strerror(err)};
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return {-1, std::string("cannot stat: ") + std::strerror(err)};
    }
    std::string why = refusal_of(st);
    if (!why.empty()) {
        ::close(fd);
        return {-1, why};
    }
    return {fd, ""};
}

std::string load_path(int fd) {
    return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace trainscope::agent
