#include "ingest/shm_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trainscope::agent {

ShmWatch::ShmWatch(const std::string& dir, std::string prefix) : prefix_(std::move(prefix)) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) {
        error_ = std::string("inotify_init1: ") + std::strerror(errno);
        return;
    }
    // IN_MOVED_TO: a segment made under another name and renamed into place counts too.
    if (::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        error_ = "inotify_add_watch " + dir + ": " + std::strerror(errno);
        ::close(fd_);
        fd_ = -1;
    }
}

ShmWatch::~ShmWatch() {
    if (fd_ >= 0) ::close(fd_);
}

bool ShmWatch::appeared() {
    if (fd_ < 0) return false;
    bool found = false;
    alignas(inotify_event) char buffer[16 * 1024];
    for (;;) {
        ssize_t n = ::read(fd_, buffer, sizeof buffer);
        if (n <= 0) break;  // EAGAIN: the queue is empty
        for (char* p = buffer; p < buffer + n;) {
            const auto* e = reinterpret_cast<const inotify_event*>(p);
            if (e->mask & IN_Q_OVERFLOW) found = true;
            else if (e->len > 0 && std::strncmp(e->name, prefix_.c_str(), prefix_.size()) == 0)
                found = true;
            p += sizeof(inotify_event) + e->len;
        }
    }
    return found;
}

}  // namespace trainscope::agent
