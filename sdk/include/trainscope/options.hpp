// The SDK's small vocabulary types: log() statuses, overflow policies, run options.
#pragma once

#include <cstdint>
#include <string>

namespace trainscope {

/// What happened to one log() call.
enum class LogStatus {
    ok,        ///< the record is in the ring
    full,      ///< the ring was full (drop policy): the record was dropped and counted
    disabled,  ///< the Run has no segment (it could not be created, or was finished)
};

/// What log() does when the ring is full.
enum class OverflowPolicy {
    drop,   ///< never block the trainer: drop the record and count it (default)
    block,  ///< wait until the agent has stored enough to make room
};

/// How a Run is set up. Every field has a sensible default.
struct RunOptions {
    std::uint32_t capacity = 1u << 16;          ///< ring slots (rounded up to a power of two)
    OverflowPolicy overflow = OverflowPolicy::drop;
    std::string name_space;                      ///< empty: TRAINSCOPE_NAMESPACE or trainscope-<uid>
    std::string run_id;                          ///< empty: TRAINSCOPE_RUN_ID or a new ULID
    int rank = -1;                               ///< -1: RANK from the environment, else 0
    bool autostart = true;                       ///< start an agent if none serves the namespace
                                                 ///< (TRAINSCOPE_AUTOSTART=0 also turns it off)
};

}  // namespace trainscope
