// The agent's claim on its namespace: one agent per namespace, in a place only the user can
// write (see sdk detail/namespace_dir.hpp for the places and the checks).
#pragma once

#include <string>
#include <vector>

#include <trainscope/detail/namespace_dir.hpp>

namespace trainscope::agent {

class NamespaceLock {
public:
    /// Takes the namespace's lock in the first of `dirs` that is the user's alone (made 0700
    /// if missing) whose agent file is the user's alone (made 0600 if missing). Places that
    /// are not are skipped and listed in refusals(). If another agent holds the lock,
    /// holder() is its pid.
    NamespaceLock(const std::string& name_space, const std::vector<std::string>& dirs);
    ~NamespaceLock();
    NamespaceLock(const NamespaceLock&) = delete;
    NamespaceLock& operator=(const NamespaceLock&) = delete;

    bool held() const { return fd_ >= 0; }
    long holder() const { return holder_; }
    /// The agent file held (or found held by another agent).
    const std::string& path() const { return path_; }
    /// Places skipped because another user could write them, each with the reason.
    const std::vector<detail::Refusal>& refusals() const { return refusals_; }
    /// Records where this agent listens, for trainers to print.
    void publish_url(const std::string& url);

private:
    /// Tries one directory: true when done (lock taken, or held by another agent).
    bool try_dir(const std::string& dir, const std::string& name_space);

    std::string path_;
    int fd_ = -1;
    long holder_ = 0;
    std::vector<detail::Refusal> refusals_;
};

}  // namespace trainscope::agent
