// Instant discovery of new trainer segments: an inotify watch on the shared-memory directory
// tells the collector the moment a file with our prefix is created (or renamed into place),
// so a Run logging a burst right after it starts is attached within a millisecond or two
// instead of at the next periodic scan. The periodic scan stays: it is the fallback when
// inotify is unavailable (no inotify_init, watch limit reached, a directory that does not
// support it) and it notices files that go away.
#pragma once

#include <string>

namespace trainscope::agent {

class ShmWatch {
public:
    /// Watches `dir` for new entries whose names start with `prefix`. Never throws: on
    /// failure active() is false and error() says why.
    ShmWatch(const std::string& dir, std::string prefix);
    ~ShmWatch();
    ShmWatch(const ShmWatch&) = delete;
    ShmWatch& operator=(const ShmWatch&) = delete;

    bool active() const { return fd_ >= 0; }
    const std::string& error() const { return error_; }

    /// Non-blocking. True when an entry with our prefix appeared since the last call (or the
    /// kernel's event queue overflowed, so one may have): time to scan the directory.
    bool appeared();

private:
    std::string prefix_;
    std::string error_;
    int fd_ = -1;
};

}  // namespace trainscope::agent
