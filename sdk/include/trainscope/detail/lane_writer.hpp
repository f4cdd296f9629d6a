// The producer side of one lane: reserve a position, fill the slot, publish it.
// See layout.hpp ("Lanes", "Protocol"). No lock, no system call, no allocation.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include <trainscope/detail/agent_watch.hpp>
#include <trainscope/detail/clock.hpp>
#include <trainscope/layout.hpp>
#include <trainscope/options.hpp>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#if defined(__GNUC__)
#define TRAINSCOPE_LIKELY(x) __builtin_expect(!!(x), 1)
#define TRAINSCOPE_COLD __attribute__((noinline, cold))
#else
#define TRAINSCOPE_LIKELY(x) (x)
#define TRAINSCOPE_COLD
#endif

namespace trainscope::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(_M_X64)
    _mm_pause();
#endif
}

/// Block policy: spin briefly, then give the core to the agent that frees slots.
inline void backoff(unsigned* spins) noexcept {
    if (++*spins % 256 == 0) std::this_thread::yield();
    else cpu_relax();
}

/// Everything log() needs to write one lane, on a cache line of its own in process-private
/// memory. For an owned lane only its current owner thread writes `limit`; lane 0's
/// LaneWriter is never written after creation (its threads share it).
struct alignas(layout::kCacheLine) LaneWriter {
    layout::LaneControl* control = nullptr;
    layout::Slot* slots = nullptr;
    layout::Header* header = nullptr;  ///< for the shared drop counter
    /// Owned lanes: positions below this are known to be free (read_pos + slot_count as last
    /// read). Refreshed from read_pos only when reached, so the agent's cache line is read
    /// about once per lap, not once per record. Conservative: read_pos only grows.
    std::uint64_t limit = 0;
    std::uint32_t mask = 0;            ///< slot_count - 1 (slot_count <= kMaxSlots = 2^28)
    std::uint32_t index = 0;           ///< lane number; 0 is the shared lane
    WallClock clock;
    AgentWatch* block = nullptr;       ///< the block policy's agent watch; null: drop policy
};
static_assert(sizeof(LaneWriter) == layout::kCacheLine, "one cache line per lane writer");

/// The lane has no room: true when the record is to be dropped (and counts it): always under
/// the drop policy, and under the block policy once the agent is gone (agent_watch.hpp).
/// False: wait a little and look again.
TRAINSCOPE_COLD inline bool drop_instead_of_waiting(const LaneWriter& w, AgentWait& wait,
                                                    unsigned* spins) noexcept {
    if (!w.block || wait.give_up(*w.block)) {
        w.header->dropped.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    backoff(spins);
    return false;
}

/// The ring has no room at `pos`: refresh `limit`, and under the block policy wait for the
/// agent. False: the record is dropped (and counted). Kept out of line: the hot path only
/// pays for the comparison that leads here.
TRAINSCOPE_COLD inline bool make_room(LaneWriter& w, std::uint64_t pos) noexcept {
    unsigned spins = 0;
    AgentWait wait;
    for (;;) {
        // Acquire pairs with the agent's release of read_pos: its reads of the slot we are
        // about to reuse are complete.
        w.limit = w.control->read_pos.load(std::memory_order_acquire) + w.mask + 1;
        if (pos < w.limit) return true;
        if (drop_instead_of_waiting(w, wait, &spins)) return false;
    }
}

/// Fills the slot at position pos, then publishes it (the release store readers wait for).
inline void write_slot(layout::Slot& slot, std::uint64_t pos, std::uint32_t metric_id, std::int64_t step,
                       double value, std::int64_t unix_ns) noexcept {
    slot.metric_id = metric_id;
    slot.step = step;
    slot.value = value;
    slot.unix_ns = unix_ns;
    slot.publish.store(static_cast<std::uint32_t>(pos + 1), std::memory_order_release);
}

/// Single producer: this thread is the only writer of the lane's write_pos.
inline LogStatus push_owned(LaneWriter& w, std::uint32_t metric_id, std::int64_t step,
                            double value, std::int64_t unix_ns) noexcept {
    layout::LaneControl& c = *w.control;
    std::uint64_t pos = c.write_pos.load(std::memory_order_relaxed);
    if (!TRAINSCOPE_LIKELY(pos < w.limit) && !make_room(w, pos)) return LogStatus::full;
    write_slot(w.slots[pos & w.mask], pos, metric_id, step, value, unix_ns);
    // After the publish: every position below write_pos is published on an owned lane.
    c.write_pos.store(pos + 1, std::memory_order_release);
    return LogStatus::ok;
}

/// Slots claimed on lane 0 but not yet released. read_pos is loaded first (acquire), then
/// write_pos: every position below a released read_pos was claimed (the agent releases only
/// published slots, and their claims happen-before its release), so the write_pos loaded
/// after it is never behind it and the difference never wraps. Loaded the other way round, a
/// thread preempted between the two loads compares an old write_pos with a newer read_pos
/// and sees a "full" lane that has room.
inline std::uint64_t shared_lane_used(const layout::LaneControl& c, std::uint64_t* pos,
                                      std::uint64_t* read) noexcept {
    *read = c.read_pos.load(std::memory_order_acquire);
    *pos = c.write_pos.load(std::memory_order_relaxed);
    return *pos - *read;
}

/// Lane 0 looked full. True once it has room (the caller claims again); false when the
/// record is dropped (counted). A drop is counted only if the lane is full for certain:
/// read_pos did not move while write_pos was read, so write_pos - read_pos was the lane's
/// use at that moment.
TRAINSCOPE_COLD inline bool wait_shared_lane(const LaneWriter& w) noexcept {
    const layout::LaneControl& c = *w.control;
    unsigned spins = 0;
    AgentWait wait;
    for (;;) {
        std::uint64_t pos, read;
        if (shared_lane_used(c, &pos, &read) <= w.mask) return true;
        if (c.read_pos.load(std::memory_order_acquire) != read) continue;  // it moved: look again
        if (drop_instead_of_waiting(w, wait, &spins)) return false;
    }
}

/// Lane 0, shared by any number of threads: claim a position with a CAS.
inline LogStatus push_shared(const LaneWriter& w, std::uint32_t metric_id, std::int64_t step,
                             double value, std::int64_t unix_ns) noexcept {
    layout::LaneControl& c = *w.control;
    for (;;) {
        std::uint64_t pos, read;
        if (shared_lane_used(c, &pos, &read) > w.mask) {
            if (!wait_shared_lane(w)) return LogStatus::full;
            continue;
        }
        if (c.write_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                              std::memory_order_relaxed)) {
            write_slot(w.slots[pos & w.mask], pos, metric_id, step, value, unix_ns);
            return LogStatus::ok;
        }
        // Lost the race for pos: look at both positions again.
    }
}

/// One record into lane `w`, stamped now.
inline LogStatus push_to_lane(LaneWriter& w, std::uint32_t metric_id, std::int64_t step,
                              double value) noexcept {
    // The clock is read before the claim: under the block policy the record keeps the time
    // log() was called, and on lane 0 the claimed-but-unpublished window stays short.
    std::int64_t now = w.clock.now();
    if (TRAINSCOPE_LIKELY(w.index != 0)) return push_owned(w, metric_id, step, value, now);
    return push_shared(w, metric_id, step, value, now);
}

/// One record into lane `w`, stamped with the caller's wall time (Unix nanoseconds).
inline LogStatus push_to_lane_at(LaneWriter& w, std::uint32_t metric_id, std::int64_t step,
                                 double value, std::int64_t unix_ns) noexcept {
    if (TRAINSCOPE_LIKELY(w.index != 0)) return push_owned(w, metric_id, step, value, unix_ns);
    return push_shared(w, metric_id, step, value, unix_ns);
}

}  // namespace trainscope::detail
