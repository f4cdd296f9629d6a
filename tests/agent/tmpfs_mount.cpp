#include "agent/tmpfs_mount.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

namespace trainscope::test {

TmpfsMount::TmpfsMount(std::string dir, std::size_t bytes) : dir_(std::move(dir)) {
    std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0)
        mounted_ = true;
    else
        error_ = std::strerror(errno);
}

TmpfsMount::~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

long long fill_disk(const std::string& path, std::string* error) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = std::strerror(errno);
        return -1;
    }
    // Page-sized writes: tmpfs hands out whole pages, so the last one that fits is taken too.
    std::vector<char> block(4096, 'x');
    long long total = 0;
    for (;;) {
        ssize_t n = ::write(fd, block.data(), block.size());
        if (n > 0) {
            total += n;
            continue;
        }
        int err = errno;
        ::close(fd);
        if (n < 0 && err == ENOSPC) return total;
        *error = n < 0 ? std::strerror(err) : "write returned 0";
        return -1;
    }
}

}  // namespace trainscope::test
