// Under OverflowPolicy::block a full lane waits for the agent to store and release slots.
// If the agent is gone (killed, crashed, never started) that wait would never end, so the
// trainer watches the agent's heartbeat in the segment (Header::agent_beat, rewritten on
// every collector pass): a wait in which the heartbeat does not move for
// RunOptions::agent_timeout gives up, says so once on stderr, and from then on the Run drops
// and counts records like the drop policy. As soon as an agent beats again (the value
// changes) full lanes wait again. Only the cold path (a full lane) ever looks at any of this.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include <trainscope/layout.hpp>

namespace trainscope::detail {

/// Per Run, shared by all its lanes and threads: whether the agent is considered gone.
class AgentWatch {
public:
    AgentWatch(const layout::Header* header, std::chrono::nanoseconds timeout) noexcept
        : header_(header), timeout_(timeout) {}

    std::uint64_t beat() const noexcept {
        return header_->agent_beat.load(std::memory_order_relaxed);  // only compared for change
    }
    std::chrono::nanoseconds timeout() const noexcept { return timeout_; }

    /// True while the agent is considered gone. Clears that state (and returns false) once
    /// the heartbeat has moved since it was declared gone.
    bool gone_now() noexcept {
        if (!gone_.load(std::memory_order_acquire)) return false;
        if (beat() == beat_when_gone_.load(std::memory_order_relaxed)) return true;
        gone_.store(false, std::memory_order_release);
        if (!said_back_.exchange(true))
            std::fprintf(stderr, "trainscope: an agent is reading this run again; a full ring "
                                 "waits for it again (block policy)\n");
        return false;
    }

    /// A wait saw no heartbeat for the whole timeout: drop from now on.
    void declare_gone(std::uint64_t beat_seen) noexcept {
        beat_when_gone_.store(beat_seen, std::memory_order_relaxed);
        gone_.store(true, std::memory_order_release);
        if (!said_gone_.exchange(true))
            std::fprintf(stderr,
                         "trainscope: no agent has read this run for %lld ms; records that do "
                         "not fit in the ring are now dropped and counted instead of waited "
                         "for (block policy), until an agent reads it again\n",
                         static_cast<long long>(timeout_.count() / 1'000'000));
    }

private:
    const layout::Header* header_;
    std::chrono::nanoseconds timeout_;
    std::atomic<bool> gone_{false};
    std::atomic<std::uint64_t> beat_when_gone_{0};
    std::atomic<bool> said_gone_{false};
    std::atomic<bool> said_back_{false};
};

/// One log() call's wait for room in a full lane. Starts on the first give_up().
class AgentWait {
public:
    /// True: stop waiting, drop the record. False: keep waiting.
    bool give_up(AgentWatch& watch) noexcept {
        if (watch.gone_now()) return true;
        std::uint64_t beat = watch.beat();
        auto now = std::chrono::steady_clock::now();
        if (!started_ || beat != beat_) {  // the bound counts from the last beat seen
            started_ = true;
            beat_ = beat;
            since_ = now;
            return false;
        }
        if (now - since_ < watch.timeout()) return false;
        watch.declare_gone(beat);
        return true;
    }

private:
    bool started_ = false;
    std::uint64_t beat_ = 0;
    std::chrono::steady_clock::time_point since_{};
};

}  // namespace trainscope::detail
