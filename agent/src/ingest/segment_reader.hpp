// The agent's view of one trainer segment: validate it, read its published records lane by
// lane, hand each lane's slots back once they are stored, and remove it when the run is over.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <trainscope/layout.hpp>

namespace trainscope::agent {

/// One record copied out of a lane. Its default constructor leaves the fields uninitialized
/// on purpose: drain() sizes its output once and writes every field, and zero-filling first
/// would double the memory traffic of the copy.
struct Record {
    Record() noexcept {}  // NOLINT: deliberately no member initializers (see above)
    std::uint64_t position;  ///< position in its lane: the record's sequence within the lane
    std::uint32_t lane;
    std::uint32_t metric_id;
    std::int64_t step;
    double value;
    std::int64_t unix_ns;    ///< wall clock at log time
};

struct EventRecord {
    std::int64_t unix_ns;
    std::string kind;
    std::string text;
};

/// A read position per lane (index = lane number).
using LaneCursors = std::vector<std::uint64_t>;

/// Checks a mapped segment of `size` bytes. Returns "" if it is usable, else why not.
/// Sets *not_ready when the only problem is a version of 0 (the creator is still filling it).
std::string validate_segment(const void* base, std::size_t size, bool* not_ready);

class SegmentReader {
public:
    /// Maps <dir>/<name> if it is a regular file (not followed through a symlink) owned by
    /// this process's effective user with mode 0600, and holds a valid segment. Otherwise
    /// returns null and sets *why; *not_ready when it may still become valid (its creator
    /// has not sized it or published its version yet).
    static std::unique_ptr<SegmentReader> open(const std::string& dir, const std::string& name,
                                               std::string* why, bool* not_ready);
    /// open("/dev/shm", name, ...).
    static std::unique_ptr<SegmentReader> open(const std::string& name, std::string* why,
                                               bool* not_ready);
    ~SegmentReader();
    SegmentReader(const SegmentReader&) = delete;
    SegmentReader& operator=(const SegmentReader&) = delete;

    /// "" while the file still holds every byte this reader reads; else what happened to it
    /// ("was truncated to N bytes while attached ..."). Once it is not "", read nothing more
    /// from this segment: detach. Costs one fstat. Reads between this check and a truncate
    /// are contained by sigbus_guard (they see zeros), which this then reports.
    std::string damage() const;
    /// True once a read of this segment faulted (it was truncated under it); cheap.
    bool faulted() const;

    const std::string& name() const { return name_; }
    const layout::Identity& identity() const { return header_->id; }
    std::string session_id() const;
    std::string run_name() const;
    std::uint32_t lane_count() const { return lane_count_; }

    /// Appends up to `max` published records to `out`, lane by lane from cursors[lane] on
    /// (advancing them), starting with a different lane on each call so that no lane starves
    /// when `max` cuts a pass short. Reads each lane only up to the write_pos it sees on
    /// entry. A slot claimed by a producer that died before publishing it is skipped when
    /// `producer_dead` (it can never be published); *lost counts such slots.
    std::size_t drain(LaneCursors& cursors, std::size_t max, bool producer_dead,
                      std::vector<Record>& out, std::uint64_t* lost);

    /// Hands a lane's slots below `position` back to its producer: only once they are stored.
    void release(std::uint32_t lane, std::uint64_t position);
    std::uint64_t read_pos(std::uint32_t lane) const;
    std::uint64_t write_pos(std::uint32_t lane) const;
    /// Every lane's read_pos.
    LaneCursors read_positions() const;
    /// Positions claimed over all lanes: how many records were ever accepted.
    std::uint64_t written() const;
    /// True when each lane's cursor has reached its write_pos.
    bool drained(const LaneCursors& cursors) const;
    std::uint64_t dropped() const;
    /// The producer ended the run (finished or failed): it publishes nothing more.
    bool finished() const;
    /// The producer ended the run as failed (an exception in the trainer, say).
    bool failed() const;

    /// Metric names published so far (bounded by kMaxMetrics, NUL-safe).
    std::uint32_t metric_count() const;
    std::string metric_name(std::uint32_t id) const;

    /// Reads a blob if its generation differs from *generation; false if unchanged or busy.
    bool read_config(std::uint32_t* generation, std::string* out) const;
    bool read_model_info(std::uint32_t* generation, std::string* out) const;

    /// The agent's heartbeat: a new value in the segment on every pass, so that a trainer
    /// blocked on a full ring can tell a live agent from a dead one (agent_watch.hpp).
    void beat();
    std::uint64_t agent_beat() const;

    /// Appends the events published from *cursor on, advancing it. Their slots stay the
    /// producer's until release_events: only once they are stored.
    void read_events(std::uint64_t& cursor, std::vector<EventRecord>& out) const;
    /// Hands the event slots below `position` back to the producer.
    void release_events(std::uint64_t position);
    std::uint64_t event_read_pos() const;

    /// Unlinks the segment's file if its name still refers to it (the mapping stays valid
    /// until destruction).
    void remove();

private:
    SegmentReader() = default;
    std::size_t drain_lane(std::uint32_t lane, std::uint64_t& cursor, std::uint64_t end,
                           bool producer_dead, Record* out, std::uint64_t* lost) const;

    std::string name_;
    std::string path_;
    int fd_ = -1;
    void* map_ = nullptr;
    std::size_t map_size_ = 0;
    std::size_t expected_size_ = 0;  ///< what the header implies: every byte read lies below
    int guard_ = -1;                 ///< sigbus_guard token
    layout::Header* header_ = nullptr;
    std::uint32_t lane_count_ = 0;
    std::uint32_t slot_count_ = 0;
    std::uint64_t mask_ = 0;
    std::uint32_t first_lane_ = 0;  ///< where the next drain starts (round robin)
};

}  // namespace trainscope::agent
