// A segment built in ordinary memory, header filled and version published the way the SDK
// does it, so tests can corrupt one field at a time and show it to the agent (in memory to
// validate_segment(), or as a /dev/shm file to a running agent).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <trainscope/layout.hpp>

namespace trainscope::test {

class SegmentImage {
public:
    /// A valid, published segment with `lane_count` lanes of `slot_count` slots and session
    /// id "image-run".
    explicit SegmentImage(std::uint32_t slot_count = layout::kMinSlots,
                          std::uint32_t lane_count = 2);
    ~SegmentImage();
    SegmentImage(const SegmentImage&) = delete;
    SegmentImage& operator=(const SegmentImage&) = delete;

    layout::Header& header() { return *header_; }
    const void* data() const { return header_; }
    std::size_t size() const { return size_; }

    /// Writes the first `bytes` bytes (all if 0) to /dev/shm/<name>, mode 0600.
    void write_shm(const std::string& name, std::size_t bytes = 0) const;
    /// Writes the whole segment to the file at `path` (anywhere), mode 0600.
    void write_file(const std::string& path) const;

private:
    layout::Header* header_ = nullptr;
    std::size_t size_ = 0;
};

/// `n` bytes from a seeded generator: the same "random" segment on every run.
std::vector<unsigned char> random_bytes(std::size_t n, std::uint32_t seed);

/// Creates /dev/shm/<name> (mode 0600) holding exactly `bytes`. Throws on failure.
void write_shm_file(const std::string& name, const void* bytes, std::size_t n);
/// Creates the file at `path` (mode 0600) holding exactly `bytes`. Throws on failure.
void write_file_at(const std::string& path, const void* bytes, std::size_t n);

}  // namespace trainscope::test
