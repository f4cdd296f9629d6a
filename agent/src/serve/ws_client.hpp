// A WebSocket client's state as the hub keeps it, shared by the hub (which queues points for
// it) and its session (which flushes them), guarded by the hub's mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "serve/json_out.hpp"
#include "serve/ws_hub.hpp"

namespace trainscope::agent {

/// A client's state, guarded by the hub's mutex.
struct WebSocketHub::Client {
    /// Live points of one series waiting for the next flush, as slices of shared rendered text.
    struct QueuedSeries {
        std::string session_id;
        int rank = 0;
        std::string metric;
        std::vector<PointSlice> slices;
        std::int64_t last_seq = 0;
    };
    struct Subscription {
        std::int64_t delivered = 0;  ///< every point with seq <= delivered is sent or skipped
        bool replay = false;         ///< send (delivered, newest] from the store first
        std::vector<QueuedSeries> queue;
    };
    std::map<std::string, Subscription> subs;
    std::vector<std::pair<std::string, std::string>> run_events;  ///< (kind, session)
    std::vector<std::string> messages;                            ///< ready-made JSON
    std::size_t queued_points = 0;
    std::atomic<bool> closing{false};
    int fd = -1;                                 ///< the socket, for the watchdog
    std::atomic<std::int64_t> busy_since_ms{0};  ///< when the current flush began; 0 if idle
};

/// The clock of Client::busy_since_ms, in milliseconds.
inline std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace trainscope::agent
