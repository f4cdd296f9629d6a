// Which lane this thread writes for a given Run: a thread-local cache in front of
// LaneSet::claim().
//
// A Metric is shared freely between threads, so it cannot carry a lane: each log() looks up
// the calling thread's lane here. The hot path is one comparison against the last Run this
// thread logged to; a small ring of recent entries covers threads that alternate between a
// few Runs; only a miss in both takes the LaneSet's lock. An entry is keyed by the LaneSet's
// address AND its generation (unique per process), so a Run destroyed and another created at
// the same address never finds the dead one's lane. Entries are plain data, never
// dereferenced unless the key matches, so stale ones need no cleanup.
#pragma once

#include <pthread.h>

#include <cstdint>

#include <trainscope/detail/lane_set.hpp>
#include <trainscope/detail/lane_writer.hpp>

namespace trainscope::detail {

struct LaneCacheEntry {
    const LaneSet* set = nullptr;
    std::uint64_t generation = 0;
    LaneWriter* lane = nullptr;
};

struct ThreadLanes {
    static constexpr unsigned kRecent = 8;
    LaneCacheEntry last;
    LaneCacheEntry recent[kRecent];
    unsigned next = 0;
};

/// This thread's cache. Constant-initialized and trivially destructible, so access is a
/// plain TLS address computation: no guard variable, no registration at thread exit.
inline ThreadLanes& thread_lanes() noexcept {
    static thread_local ThreadLanes lanes;
    return lanes;
}

/// Registers, once per process, the fork handler that, in the child, sets forked_child()
/// and empties the forking thread's cache (the child's only thread would otherwise keep
/// writing to the lane its parent's thread owns).
inline void watch_fork() noexcept {
    static const bool registered = [] {
        ::pthread_atfork(nullptr, nullptr, [] {
            forked_child().store(true, std::memory_order_relaxed);
            thread_lanes() = ThreadLanes{};
        });
        return true;
    }();
    (void)registered;
}

TRAINSCOPE_COLD inline LaneWriter& lane_for_slow(LaneSet& set, std::uint64_t generation) noexcept {
    ThreadLanes& t = thread_lanes();
    for (const LaneCacheEntry& e : t.recent)
        if (e.set == &set && e.generation == generation) return *(t.last = e).lane;
    LaneCacheEntry e{&set, generation, &set.claim()};
    t.recent[t.next++ % ThreadLanes::kRecent] = e;
    t.last = e;
    return *e.lane;
}

/// The calling thread's lane of `set` (which must be the live LaneSet of that generation).
inline LaneWriter& lane_for(LaneSet& set, std::uint64_t generation) noexcept {
    const LaneCacheEntry& e = thread_lanes().last;
    if (TRAINSCOPE_LIKELY(e.set == &set && e.generation == generation)) return *e.lane;
    return lane_for_slow(set, generation);
}

}  // namespace trainscope::detail
