// The producer's clock: the cheapest monotonic counter the CPU offers.
//
// On x86-64 the invariant TSC (rdtsc, ~20 cycles, no system call). Elsewhere steady_clock.
// A Slot stores raw ticks; the segment header stores one (wall clock, ticks) anchor taken at
// creation, and the agent converts ticks to wall time by interpolating between that anchor
// and its own (wall clock, ticks) reading, so the trainer never pays for the conversion.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#include <x86intrin.h>
#define TRAINSCOPE_HAVE_TSC 1
#endif

namespace trainscope::detail {

/// Values of layout::Identity::tick_kind.
enum TickKind : std::uint32_t { kTicksTsc = 1, kTicksSteadyNs = 2 };

#if TRAINSCOPE_HAVE_TSC
constexpr TickKind kTickKind = kTicksTsc;
inline std::uint64_t now_ticks() noexcept { return __rdtsc(); }
#else
constexpr TickKind kTickKind = kTicksSteadyNs;
inline std::uint64_t now_ticks() noexcept {
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}
#endif

inline std::int64_t now_unix_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace trainscope::detail
