// A small tmpfs mounted over a directory for the test's lifetime (a disk that can fill up),
// and a filler file that takes every byte left on it. Mounting needs root (CAP_SYS_ADMIN):
// check mounted() and skip otherwise.
#pragma once

#include <cstddef>
#include <string>

namespace trainscope::test {

class TmpfsMount {
public:
    /// Mounts a tmpfs of `bytes` over `dir` (which must exist); see mounted() and error().
    TmpfsMount(std::string dir, std::size_t bytes);
    /// Unmounts (lazily: a process still holding files there keeps them until it closes them).
    ~TmpfsMount();
    TmpfsMount(const TmpfsMount&) = delete;
    TmpfsMount& operator=(const TmpfsMount&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }

private:
    std::string dir_;
    bool mounted_ = false;
    std::string error_;
};

/// Writes `path` until the file system is full (ENOSPC); returns the bytes written, or -1
/// (with errno's text in *error) if it failed for another reason.
long long fill_disk(const std::string& path, std::string* error);

}  // namespace trainscope::test
