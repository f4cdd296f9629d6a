// The producer side of one lane: reserve a position, fill the slot, publish it.
// See layout.hpp ("Lanes", "Protocol"). No lock, no system call, no allocation.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

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
    std::uint64_t mask = 0;            ///< slot_count - 1
    /// Owned lanes: positions below this are known to be free (read_pos + slot_count as last
    /// read). Refreshed from read_pos only when reached, so the agent's cache line is read
    /// about once per lap, not once per record. Conservative: read_pos only grows.
    std::uint64_t limit = 0;
    WallClock clock;
    std::uint32_t index = 0;           ///< lane number; 0 is the shared lane
    bool block = false;
};

/// The ring has no room at `pos`: refresh `limit`, and under the block policy wait for the
/// agent. False: the record is dropped (and counted). Kept out of line: the hot path only
/// pays for the comparison that leads here.
TRAINSCOPE_COLD inline bool make_room(LaneWriter& w, std::uint64_t pos) noexcept {
    unsigned spins = 0;
    for (;;) {
        // Acquire pairs with the agent's release of read_pos: its reads of the slot we are
        // about to reuse are complete.
        w.limit = w.control->read_pos.load(std::memory_order_acquire) + w.mask + 1;
        if (pos < w.limit) return true;
        if (!w.block) {
            w.header->dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        backoff(&spins);
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

/// Lane 0, shared by any number of threads: claim a position with a CAS.
inline LogStatus push_shared(const LaneWriter& w, std::uint32_t metric_id, std::int64_t step,
                             double value, std::int64_t unix_ns) noexcept {
    layout::LaneControl& c = *w.control;
    const std::uint64_t capacity = w.mask + 1;
    std::uint64_t pos = c.write_pos.load(std::memory_order_relaxed);
    unsigned spins = 0;
    for (;;) {
        std::uint64_t read = c.read_pos.load(std::memory_order_acquire);
        if (pos - read >= capacity) {
            if (!w.block) {
                w.header->dropped.fetch_add(1, std::memory_order_relaxed);
                return LogStatus::full;
            }
            backoff(&spins);
            pos = c.write_pos.load(std::memory_order_relaxed);
            continue;
        }
        if (c.write_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                              std::memory_order_relaxed))
            break;
    }
    write_slot(w.slots[pos & w.mask], pos, metric_id, step, value, unix_ns);
    return LogStatus::ok;
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

}  // namespace trainscope::detail
