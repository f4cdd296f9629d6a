// The agent's claim on its namespace: one agent per namespace (see sdk detail/agent_lock.hpp).
#pragma once

#include <string>

namespace trainscope::agent {

class NamespaceLock {
public:
    /// Takes the namespace's lock; *holder is set to the other agent's pid when it is taken.
    explicit NamespaceLock(const std::string& name_space);
    ~NamespaceLock();
    NamespaceLock(const NamespaceLock&) = delete;
    NamespaceLock& operator=(const NamespaceLock&) = delete;

    bool held() const { return fd_ >= 0; }
    long holder() const { return holder_; }
    /// Records where this agent listens, for trainers to print.
    void publish_url(const std::string& url);

private:
    std::string path_;
    int fd_ = -1;
    long holder_ = 0;
};

}  // namespace trainscope::agent
