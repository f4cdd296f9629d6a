#include "support/segment_image.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>

#include "support/shm_names.hpp"

namespace trainscope::test {

SegmentImage::SegmentImage(std::uint32_t slot_count, std::uint32_t lane_count)
    : size_(layout::segment_size(lane_count, slot_count)) {
    void* raw = ::operator new (size_, std::align_val_t{layout::kCacheLine});
    std::memset(raw, 0, size_);
    header_ = new (raw) layout::Header;
    layout::Identity& id = header_->id;
    id.magic = layout::kMagic;
    id.header_size = static_cast<std::uint32_t>(layout::kHeaderSize);
    id.slot_size = sizeof(layout::Slot);
    id.slot_count = slot_count;
    id.lane_count = lane_count;
    id.producer_pid = 999999;
    id.producer_start = 1;
    id.clock_kind = layout::kClockRealtimeCoarse;
    std::strcpy(id.session_id, "image-run");
    std::strcpy(id.run_name, "image");
    id.version.store(layout::kLayoutVersion, std::memory_order_release);
}

SegmentImage::~SegmentImage() {
    header_->~Header();
    ::operator delete (static_cast<void*>(header_), std::align_val_t{layout::kCacheLine});
}

void SegmentImage::write_shm(const std::string& name, std::size_t bytes) const {
    write_shm_file(name, header_, bytes == 0 ? size_ : bytes);
}

void SegmentImage::write_file(const std::string& path) const {
    write_file_at(path, header_, size_);
}

std::vector<unsigned char> random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::vector<unsigned char> out(n);
    for (auto& b : out) b = static_cast<unsigned char>(gen());
    return out;
}

void write_shm_file(const std::string& name, const void* bytes, std::size_t n) {
    write_file_at(shm_path(name), bytes, n);
}

void write_file_at(const std::string& path, const void* bytes, std::size_t n) {
    // Written under a name no namespace matches, then renamed into place whole: the agent
    // sees a new file at once (inotify) and must never find it half written.
    static std::atomic<unsigned> serial{0};
    std::string dir = path.substr(0, path.rfind('/') + 1);
    std::string staging = dir + ".staging-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
    int fd = ::open(staging.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + staging);
    const char* p = static_cast<const char*>(bytes);
    std::size_t left = n;
    while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w <= 0) {
            ::close(fd);
            throw std::runtime_error("cannot write " + path);
        }
        p += w;
        left -= static_cast<std::size_t>(w);
    }
    ::close(fd);
    if (::rename(staging.c_str(), path.c_str()) != 0) {
        ::unlink(staging.c_str());
        throw std::runtime_error("cannot rename into " + path);
    }
}

}  // namespace trainscope::test
