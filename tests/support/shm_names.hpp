// Shared-memory names for tests: a namespace unique to the running test, the /dev/shm
// files that belong to it, and their removal, so tests can run in parallel (ctest -j).
#pragma once

#include <string>
#include <vector>

namespace trainscope::test {

/// "tstest-<pid>-<Suite>-<Test>" (sanitized) for the running GoogleTest test; a counter
/// suffix keeps a second namespace of the same test distinct.
std::string unique_namespace();

/// /dev/shm/<name>.
std::string shm_path(const std::string& name);

/// Every /dev/shm file of namespace ns (named "<ns>.<anything>"), sorted.
std::vector<std::string> shm_files(const std::string& ns);

/// Only the trainer segments of ns: "<ns>.<pid>.<n>" with decimal pid and n, sorted.
std::vector<std::string> trainer_segments(const std::string& ns);

/// Removes every /dev/shm file of ns, and the agent lock file of ns in its places.
void remove_shm_files(const std::string& ns);

/// A namespace for one test; its /dev/shm files are removed on construction and destruction.
class ShmNamespace {
public:
    ShmNamespace();
    ~ShmNamespace();
    ShmNamespace(const ShmNamespace&) = delete;
    ShmNamespace& operator=(const ShmNamespace&) = delete;

    const std::string& name() const { return name_; }
    /// The one trainer segment of this namespace; fails the test if there is not exactly one.
    std::string only_segment() const;

private:
    std::string name_;
};

}  // namespace trainscope::test
