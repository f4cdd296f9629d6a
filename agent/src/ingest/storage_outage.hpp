// The store's health as the collector sees it: whether commits fail (disk full, I/O error,
// read-only file), why, how many points wait in the trainers' rings meanwhile, and when to try
// again. Retries back off (100 ms doubling to 2 s) so a full disk is not hammered, and the
// caller logs only when an outage starts and when it ends, never per retry.
//
// Written by the collector thread; snapshot() may be called from any thread (/healthz,
// /metrics).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace trainscope::agent {

class StorageOutage {
public:
    using Clock = std::chrono::steady_clock;

    struct Snapshot {
        bool ok = true;
        std::string error;                ///< the last failure's message while !ok
        std::uint64_t waiting_points = 0; ///< in the rings, not yet stored
        double outage_seconds = 0;        ///< how long commits have been failing
    };

    /// A commit (or any store write) failed. True if this starts an outage: log it then.
    bool failed(const std::string& error, Clock::time_point now);
    /// Writes went through. True if this ends an outage: log it then.
    bool succeeded();
    /// False while backing off after a failure.
    bool may_try(Clock::time_point now) const;
    void set_waiting(std::uint64_t points);
    Snapshot snapshot() const;

    static constexpr std::chrono::milliseconds kFirstBackoff{100};
    static constexpr std::chrono::milliseconds kMaxBackoff{2000};

private:
    mutable std::mutex mutex_;
    bool ok_ = true;
    std::string error_;
    std::uint64_t waiting_ = 0;
    Clock::time_point since_{};
    Clock::time_point retry_at_{};
    std::chrono::milliseconds backoff_{0};
};

}  // namespace trainscope::agent
