// The producer's clocks: wall-clock Unix nanoseconds, read on every log() call.
//
// Records carry wall time directly, so the agent needs no conversion and a record's time
// never depends on the agent having been alive. The default is CLOCK_REALTIME_COARSE: the
// kernel's last tick, read from the vDSO data page with no system call and no TSC read.
// glibc's clock_gettime() wraps the vDSO function in checks that cost about as much as the
// read itself on the machines we measured (9 ns vs 5.7 ns per call), so where glibc can
// look the vDSO symbol up for us (dlopen of the already-mapped "linux-vdso.so.1") we call
// it directly, and fall back to clock_gettime() everywhere else. Either way each record is
// stamped when it is logged: no caching, so a timestamp is never staler than the clock's
// own resolution.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

#if defined(__linux__) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
// glibc >= 2.34 has dlopen in libc itself: looking up the vDSO needs no extra library.
#include <dlfcn.h>
#define TRAINSCOPE_VDSO_LOOKUP 1
#endif

#include <trainscope/layout.hpp>
#include <trainscope/options.hpp>

namespace trainscope::detail {

using ClockGettime = int (*)(clockid_t, timespec*);

/// The kernel's clock_gettime in the vDSO if it can be found, else libc's.
inline ClockGettime resolve_clock_gettime() noexcept {
#if TRAINSCOPE_VDSO_LOOKUP
    // RTLD_NOLOAD: never loads anything, only finds the vDSO the kernel already mapped.
    for (const char* lib : {"linux-vdso.so.1", "linux-vdso64.so.1"}) {
        void* h = ::dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
        if (!h) continue;
        void* fn = nullptr;
        for (const char* sym : {"__vdso_clock_gettime", "__kernel_clock_gettime"})
            if (!fn) fn = ::dlsym(h, sym);
        ::dlclose(h);  // the vDSO is never unmapped; this only drops the reference NOLOAD took
        if (fn) return reinterpret_cast<ClockGettime>(fn);
    }
#endif
    return &::clock_gettime;
}

/// One wall clock, resolved once per Run and copied next to the hot path's other state.
struct WallClock {
    ClockGettime fn = &::clock_gettime;
    clockid_t id = CLOCK_REALTIME_COARSE;

    static WallClock make(Timestamps kind) noexcept {
        static const ClockGettime fn = resolve_clock_gettime();
        return WallClock{fn, kind == Timestamps::precise ? CLOCK_REALTIME : CLOCK_REALTIME_COARSE};
    }
    std::int64_t now() const noexcept {
        timespec ts;
        if (fn(id, &ts) != 0) return 0;  // cannot happen for these clocks; keeps ts defined
        return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
    layout::ClockKind kind() const noexcept {
        return id == CLOCK_REALTIME ? layout::kClockRealtime : layout::kClockRealtimeCoarse;
    }
    std::uint32_t resolution_ns() const noexcept {
        timespec res{};
        if (::clock_getres(id, &res) != 0) return 0;
        return static_cast<std::uint32_t>(res.tv_sec * 1'000'000'000 + res.tv_nsec);
    }
};

/// Wall clock for the slow paths (segment creation, events, the agent's own bookkeeping).
inline std::int64_t now_unix_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace trainscope::detail
