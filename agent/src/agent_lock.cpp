#include "agent_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <trainscope/detail/agent_lock.hpp>

namespace trainscope::agent {

NamespaceLock::NamespaceLock(const std::string& name_space)
    : path_(detail::agent_lock_path(name_space)) {
    // The lock lives on an inode, the name on a path: an exiting agent unlinks the path, so
    // after locking, make sure the locked inode is still the one the path names.
    for (int attempt = 0; attempt < 8; ++attempt) {
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
        struct stat held {}, named {};
        if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
            held.st_dev == named.st_dev) {
            fd_ = fd;
            if (::ftruncate(fd_, 0) != 0) { /* stale content is overwritten by publish_url */ }
            return;
        }
        ::close(fd);  // we locked a file that was unlinked meanwhile: try the new one
    }
}

NamespaceLock::~NamespaceLock() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // while still locked: a newcomer re-checks the inode
    ::close(fd_);
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
