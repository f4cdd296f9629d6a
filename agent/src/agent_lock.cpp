#include "agent_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <trainscope/detail/agent_lock.hpp>

namespace trainscope::agent {

NamespaceLock::NamespaceLock(const std::string& name_space)
    : path_(detail::agent_lock_path(name_space)) {
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &lock) != 0) {
        holder_ = detail::agent_pid(name_space);
        ::close(fd);
        return;
    }
    fd_ = fd;
    if (::ftruncate(fd_, 0) != 0) { /* stale content is overwritten by publish_url */ }
}

NamespaceLock::~NamespaceLock() {
    // The file stays: unlinking it could let two agents lock two different inodes.
    if (fd_ >= 0) ::close(fd_);
}

void NamespaceLock::publish_url(const std::string& url) {
    if (fd_ < 0) return;
    std::string text = std::to_string(::getpid()) + " " + url + "\n";
    if (::ftruncate(fd_, 0) == 0) {
        ssize_t n = ::pwrite(fd_, text.data(), text.size(), 0);
        (void)n;
    }
}

}  // namespace trainscope::agent
