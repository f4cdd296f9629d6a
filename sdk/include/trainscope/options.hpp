// The SDK's small vocabulary types: log() statuses, overflow policies, run options.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace trainscope {

/// What happened to one log() call.
enum class LogStatus {
    ok,        ///< the record is in the ring
    full,      ///< the ring was full (drop policy): the record was dropped and counted
    disabled,  ///< the Run has no segment (it could not be created, or was finished)
};

/// How a run ended, as its trainer tells it (a run whose process dies first is "crashed").
enum class RunEnd {
    finished,  ///< the trainer completed
    failed,    ///< the trainer stopped on an error it caught (an exception, a NaN guard)
};

/// What log() does when the ring is full.
enum class OverflowPolicy {
    drop,   ///< never block the trainer: drop the record and count it (default)
    block,  ///< wait until the agent has stored enough to make room (while an agent beats;
            ///< see RunOptions::agent_timeout)
};

/// Which clock stamps each record (wall-clock Unix nanoseconds either way).
enum class Timestamps {
    coarse,   ///< CLOCK_REALTIME_COARSE: a few ns per record, resolution one kernel tick
              ///< (typically 1-4 ms; clock_getres tells). The default.
    precise,  ///< CLOCK_REALTIME: nanosecond resolution, several times the cost of log()
};

/// How a Run is set up. Every field has a sensible default.
struct RunOptions {
    std::uint32_t capacity = 1u << 16;          ///< slots per lane (rounded up to a power of two)
    OverflowPolicy overflow = OverflowPolicy::drop;
    std::string name_space;                      ///< empty: TRAINSCOPE_NAMESPACE or trainscope-<uid>
    std::string run_id;                          ///< empty: TRAINSCOPE_RUN_ID, else torchrun's
                                                 ///< TORCHELASTIC_RUN_ID, else a new ULID
    int rank = -1;                               ///< -1: RANK, else LOCAL_RANK, else 0
    bool autostart = true;                       ///< start an agent if none serves the namespace
                                                 ///< (TRAINSCOPE_AUTOSTART=0 also turns it off)
    Timestamps timestamps = Timestamps::coarse;
    /// Rings in the segment (1..64). Each of the first lanes-1 threads that log to the Run
    /// gets a lane of its own (no atomic read-modify-write per record); threads beyond that
    /// share lane 0 (one CAS per record). Unused lanes cost no memory (tmpfs is sparse).
    std::uint32_t lanes = 8;
    /// Block policy only: a wait for room in which the agent's heartbeat does not move for
    /// this long gives up (once, on stderr); the Run then drops and counts, like the drop
    /// policy, until an agent beats again. Bounds the wait of a trainer whose agent is gone.
    std::chrono::milliseconds agent_timeout{2000};
};

}  // namespace trainscope
