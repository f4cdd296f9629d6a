#include "tick_clock.hpp"

#include <chrono>
#include <thread>

namespace trainscope::agent {

TickClock::TickClock() {
    start_ns_ = detail::now_unix_ns();
    start_ticks_ = detail::now_ticks();
    // A short first span so the very first conversions already have a usable rate.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

TickConversion TickClock::for_segment(const layout::Identity& id) const {
    std::int64_t now_ns = detail::now_unix_ns();
    std::uint64_t now_ticks = detail::now_ticks();
    if (id.tick_kind != detail::kTickKind || id.tick_kind == detail::kTicksSteadyNs)
        return {id.anchor_unix_ns, id.anchor_ticks, 1.0};
    double own_span = static_cast<double>(now_ticks - start_ticks_);
    double seg_span = static_cast<double>(static_cast<std::int64_t>(now_ticks - id.anchor_ticks));
    double rate = seg_span > own_span
                      ? static_cast<double>(now_ns - id.anchor_unix_ns) / seg_span
                      : static_cast<double>(now_ns - start_ns_) / own_span;
    if (!(rate > 0.0) || rate > 100.0) rate = 1.0;  // nonsense anchors from a corrupt header
    return {id.anchor_unix_ns, id.anchor_ticks, rate};
}

}  // namespace trainscope::agent
