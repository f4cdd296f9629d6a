// The producer side of the record ring: reserve a position, fill the slot, publish it.
// Lock-free, wait-free under the drop policy apart from CAS retries, no system call, no
// allocation. See layout.hpp for the protocol.
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

namespace trainscope {

namespace detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(_M_X64)
    _mm_pause();
#endif
}

/// Everything the hot path needs, copied into each Metric so log() touches no Run state.
struct RingRef {
    layout::Header* header = nullptr;
    layout::Slot* slots = nullptr;
    std::uint64_t capacity = 0;  ///< slot_count, a power of two
    bool block = false;
};

inline LogStatus push(const RingRef& ring, std::uint32_t metric_id, std::int64_t step,
                      double value) noexcept {
    layout::Header& h = *ring.header;
    std::uint64_t pos = h.write_pos.load(std::memory_order_relaxed);
    unsigned spins = 0;
    for (;;) {
        // Acquire pairs with the agent's release of read_pos: its reads of the slot we are
        // about to reuse are complete.
        std::uint64_t read = h.read_pos.load(std::memory_order_acquire);
        if (pos - read >= ring.capacity) {
            if (!ring.block) {
                h.dropped.fetch_add(1, std::memory_order_relaxed);
                return LogStatus::full;
            }
            // Block policy: spin briefly, then give the core to the agent that frees slots.
            if (++spins % 256 == 0) std::this_thread::yield(); else cpu_relax();
            pos = h.write_pos.load(std::memory_order_relaxed);
            continue;
        }
        if (h.write_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                              std::memory_order_relaxed))
            break;
    }
    layout::Slot& slot = ring.slots[pos & (ring.capacity - 1)];
    slot.metric_id = metric_id;
    slot.step = step;
    slot.value = value;
    slot.ticks = now_ticks();
    slot.publish.store(static_cast<std::uint32_t>(pos + 1), std::memory_order_release);
    return LogStatus::ok;
}

}  // namespace detail
}  // namespace trainscope
