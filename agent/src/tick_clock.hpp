// Turns a producer's raw ticks into wall-clock time, so the trainer's hot path reads only
// the cheapest counter there is (see sdk detail/clock.hpp).
#pragma once

#include <cstdint>

#include <trainscope/detail/clock.hpp>
#include <trainscope/layout.hpp>

namespace trainscope::agent {

/// A linear map ticks -> Unix nanoseconds for one segment, valid for one drain pass.
struct TickConversion {
    std::int64_t anchor_ns;
    std::uint64_t anchor_ticks;
    double ns_per_tick;

    std::int64_t unix_ns(std::uint64_t ticks) const {
        double delta = static_cast<double>(static_cast<std::int64_t>(ticks - anchor_ticks));
        return anchor_ns + static_cast<std::int64_t>(delta * ns_per_tick);
    }
};

class TickClock {
public:
    /// Samples (wall clock, ticks) now; the rate is refined as the agent runs.
    TickClock();

    /// The conversion for a segment. The tick rate comes from the longest span available:
    /// the segment's anchor to now, or the agent's own start to now.
    TickConversion for_segment(const layout::Identity& id) const;

private:
    std::int64_t start_ns_;
    std::uint64_t start_ticks_;
};

}  // namespace trainscope::agent
