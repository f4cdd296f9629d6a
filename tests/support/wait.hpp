// Polling with a deadline: "eventually" in tests, without fixed sleeps.
#pragma once

#include <chrono>
#include <thread>

namespace trainscope::test {

using namespace std::chrono_literals;

/// Calls `done` until it returns true or `timeout` passes; true if it succeeded.
template <typename Pred>
bool wait_until(Pred&& done, std::chrono::milliseconds timeout = 10s,
                std::chrono::milliseconds poll = 20ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(poll);
    }
}

}  // namespace trainscope::test
