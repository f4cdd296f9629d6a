// The lanes of one Run, as this process sees them, and how threads are assigned to them.
//
// A thread that logs to the Run for the first time claims a lane (slow path, under a lock):
// the lane it already owns if any; else a lane never handed out; else a lane whose owner
// thread has exited (the kernel says so: tgkill(pid, tid, 0) fails with ESRCH) unless it is
// over half full with records not yet stored and lane 0 has more room, so that
// programs that start fresh threads now and then (thread pools, benchmark harnesses) do not
// run out of lanes; else the shared lane 0. Owners are kernel thread ids: the kernel reuses
// a tid only after its thread is gone, so a new thread that inherits a tid may inherit the
// lane too. A dead thread cannot be in the middle of a log() call (log() has no
// cancellation point), so its lane is consistent when handed on.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>

#include <trainscope/detail/agent_watch.hpp>
#include <trainscope/detail/lane_writer.hpp>
#include <trainscope/layout.hpp>

namespace trainscope::detail {

/// Distinguishes Runs that lived at the same address in turn (see lane_cache.hpp).
inline std::uint64_t next_run_generation() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;  // 0 means "no entry"
}

inline long current_tid() noexcept { return ::syscall(SYS_gettid); }

/// True in a child forked from a process that had Runs. The child shares the parent's
/// segments but not its lane bookkeeping, so it writes only to lane 0, whose CAS protocol
/// lives entirely in shared memory and is safe across processes.
inline std::atomic<bool>& forked_child() noexcept {
    static std::atomic<bool> flag{false};
    return flag;
}


/// Whether thread `tid` of this process still exists. A thread that is still exiting may
/// count as alive for a moment: its lane is then simply not taken yet.
inline bool thread_alive(long tid) noexcept {
    return ::syscall(SYS_tgkill, static_cast<long>(::getpid()), tid, 0) == 0 || errno != ESRCH;
}

class LaneSet {
public:
    /// The lanes of the segment at h, which has lane_count lanes of slot_count slots. Under
    /// the block policy a wait gives up after agent_timeout without an agent heartbeat.
    LaneSet(layout::Header* h, std::uint32_t lane_count, std::uint32_t slot_count, bool block,
            WallClock clock,
            std::chrono::nanoseconds agent_timeout = std::chrono::seconds(2)) noexcept
        : header_(h),
          lane_count_(lane_count),
          generation_(next_run_generation()),
          agent_watch_(h, agent_timeout) {
        for (std::uint32_t k = 0; k < lane_count; ++k) {
            LaneWriter& w = lanes_[k];
            w.control = &h->lanes[k];
            w.slots = layout::lane_slots(h, k, slot_count);
            w.header = h;
            w.mask = slot_count - 1;
            w.limit = slot_count;  // read_pos starts at 0
            w.clock = clock;
            w.index = k;
            w.block = block ? &agent_watch_ : nullptr;
        }
    }
    LaneSet(const LaneSet&) = delete;
    LaneSet& operator=(const LaneSet&) = delete;

    std::uint64_t generation() const noexcept { return generation_; }
    std::uint32_t lane_count() const noexcept { return lane_count_; }

    /// The calling thread's lane (slow path: a lock, a scan of at most kMaxLanes owners, and
    /// at worst one tgkill per owned lane; callers cache the answer).
    LaneWriter& claim() noexcept {
        if (forked_child().load(std::memory_order_relaxed)) return lanes_[0];
        const long tid = current_tid();
        std::lock_guard<std::mutex> lock(mutex_);
        for (std::uint32_t k = 1; k < lane_count_; ++k)
            if (owner_[k] == tid) return lanes_[k];
        for (std::uint32_t k = 1; k < lane_count_; ++k)
            if (owner_[k] == 0) {
                header_->lanes_claimed.fetch_add(1, std::memory_order_relaxed);
                return take(k, tid);
            }
        // A lane whose thread has exited, the roomiest. Not one still holding a backlog the
        // agent has not drained (a burst logged before the agent attached, say) while lane 0
        // has more room: the new thread would drop what lane 0 could take.
        std::uint32_t best = 0;
        std::uint64_t best_room = 0;
        for (std::uint32_t k = 1; k < lane_count_; ++k)
            if (!thread_alive(owner_[k]) && free_slots(k) > best_room) {
                best = k;
                best_room = free_slots(k);
            }
        std::uint64_t capacity = std::uint64_t{lanes_[0].mask} + 1;
        if (best != 0 && (2 * best_room >= capacity || best_room >= free_slots(0)))
            return take(best, tid);
        return lanes_[0];
    }

private:
    /// Slots of lane k not claimed or not yet released (read_pos first: see shared_lane_used).
    std::uint64_t free_slots(std::uint32_t k) const noexcept {
        std::uint64_t pos, read;
        std::uint64_t used = shared_lane_used(*lanes_[k].control, &pos, &read);
        std::uint64_t capacity = std::uint64_t{lanes_[k].mask} + 1;
        return used >= capacity ? 0 : capacity - used;
    }

    LaneWriter& take(std::uint32_t k, long tid) noexcept {
        owner_[k] = tid;
        // The previous owner's view of free space is a valid lower bound, but refresh it.
        LaneWriter& w = lanes_[k];
        w.limit = w.control->read_pos.load(std::memory_order_acquire) + w.mask + 1;
        return w;
    }

    LaneWriter lanes_[layout::kMaxLanes];
    layout::Header* header_;
    std::uint32_t lane_count_;
    std::uint64_t generation_;
    AgentWatch agent_watch_;  ///< shared by the lanes: whether the agent is gone (block policy)
    std::mutex mutex_;
    long owner_[layout::kMaxLanes] = {};  ///< kernel tid owning each lane; 0: never handed out
};

}  // namespace trainscope::detail
