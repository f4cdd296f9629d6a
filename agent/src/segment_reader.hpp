// The agent's view of one trainer segment: validate it, read its published records, hand
// its slots back once they are stored, and remove it when the run is over.
#pragma once

#include <boost/interprocess/mapped_region.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <trainscope/layout.hpp>

namespace trainscope::agent {

/// One record copied out of the ring.
struct Record {
    std::uint64_t position;  ///< ring position: the record's sequence within its segment
    std::uint32_t metric_id;
    std::int64_t step;
    double value;
    std::uint64_t ticks;
};

struct EventRecord {
    std::uint64_t ticks;
    std::string kind;
    std::string text;
};

/// Checks a mapped segment of `size` bytes. Returns "" if it is usable, else why not.
/// Sets *not_ready when the only problem is a version of 0 (the creator is still filling it).
std::string validate_segment(const void* base, std::size_t size, bool* not_ready);

class SegmentReader {
public:
    /// Maps /dev/shm/<name>. Returns null and sets *why (and *not_ready) if it is unusable.
    static std::unique_ptr<SegmentReader> open(const std::string& name, std::string* why,
                                               bool* not_ready);

    const std::string& name() const { return name_; }
    const layout::Identity& identity() const { return header_->id; }
    std::string session_id() const;
    std::string run_name() const;

    /// Copies up to `max` published records from `cursor` on into `out`, advancing `cursor`.
    /// A slot claimed by a producer that died before publishing it is skipped when
    /// `producer_dead` (it can never be published); *lost counts such slots.
    std::size_t drain(std::uint64_t& cursor, std::size_t max, bool producer_dead,
                      std::vector<Record>& out, std::uint64_t* lost) const;

    /// Hands slots below `position` back to producers: call only once they are stored.
    void release(std::uint64_t position);
    std::uint64_t read_pos() const;
    std::uint64_t write_pos() const;
    std::uint64_t dropped() const;
    bool finished() const;

    /// Metric names published so far (bounded by kMaxMetrics, NUL-safe).
    std::uint32_t metric_count() const;
    std::string metric_name(std::uint32_t id) const;

    /// Reads a blob if its generation differs from *generation; false if unchanged or busy.
    bool read_config(std::uint32_t* generation, std::string* out) const;
    bool read_model_info(std::uint32_t* generation, std::string* out) const;

    /// Moves published events out of the event ring.
    void drain_events(std::vector<EventRecord>& out);

    /// Unlinks the segment from /dev/shm (the mapping stays valid until destruction).
    void remove();

private:
    SegmentReader() = default;
    std::string name_;
    std::unique_ptr<boost::interprocess::mapped_region> region_;
    layout::Header* header_ = nullptr;
    const layout::Slot* slots_ = nullptr;
    std::uint64_t mask_ = 0;
};

}  // namespace trainscope::agent
