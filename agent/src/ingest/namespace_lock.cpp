#include "ingest/namespace_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace trainscope::agent {

namespace {

/// Opens the agent file, creating it 0600 if missing; never through a symlink. -1 and
/// errno on failure.
int open_agent_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (::fchmod(fd, 0600) != 0) { /* the check that follows refuses it */ }
        return fd;
    }
    if (errno != EEXIST) return -1;
    return ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
}

}  // namespace

NamespaceLock::NamespaceLock(const std::string& name_space, const std::vector<std::string>& dirs) {
    for (const std::string& dir : dirs)
        if (try_dir(dir, name_space)) return;
}

bool NamespaceLock::try_dir(const std::string& dir, const std::string& name_space) {
    std::error_code ec;
    // The data dir's run/ may be the first thing made under a fresh data dir.
    std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
    std::string why = detail::check_private_dir(dir, true);
    if (!why.empty()) {
        refusals_.push_back({dir, why});
        return false;
    }
    std::string path = detail::agent_file_path(dir, name_space);
    // The lock lives on an inode, the name on a path: an exiting agent unlinks the path, so
    // after locking, make sure the locked inode is still the one the path names.
    for (int attempt = 0; attempt < 8; ++attempt) {
        int fd = open_agent_file(path);
        if (fd < 0) {
            refusals_.push_back({path, detail::open_failure(errno)});
            return false;
        }
        why = detail::untrusted_reason(fd, false, 0600);
        if (!why.empty()) {
            refusals_.push_back({path, why});
            ::close(fd);
            return false;
        }
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        if (::fcntl(fd, F_SETLK, &lock) != 0) {
            struct flock probe {};
            probe.l_type = F_WRLCK;
            probe.l_whence = SEEK_SET;
            if (::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) holder_ = probe.l_pid;
            path_ = path;
            ::close(fd);
            return true;
        }
        struct stat held {}, named {};
        if (::fstat(fd, &held) == 0 && ::lstat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
            held.st_dev == named.st_dev) {
            fd_ = fd;
            path_ = path;
            if (::ftruncate(fd_, 0) != 0) { /* stale content is overwritten by publish_url */ }
            return true;
        }
        ::close(fd);  // we locked a file that was unlinked meanwhile: try the new one
    }
    return false;
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
