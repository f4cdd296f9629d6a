// Plain data passed between the agent's parts: collector -> store -> hub and plugins.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trainscope::agent {

/// A point as stored: `seq` orders every point of a session (it is what a reconnecting
/// WebSocket client sends back as since_seq).
struct StoredPoint {
    std::int64_t seq;
    std::int64_t step;
    double t_ms;   ///< Unix milliseconds, microsecond precision
    double value;
};

/// New points of one series (session, rank, metric), in seq order.
struct SeriesUpdate {
    std::string session_id;
    int rank = 0;
    std::string metric;
    std::vector<StoredPoint> points;
};

/// A point on its way into the store.
struct PendingPoint {
    std::int64_t series_id;
    std::int64_t step;
    std::int64_t t_us;
    double value;
};

/// Everything a run row holds (GET /api/runs).
struct RunInfo {
    std::string session_id;
    std::string name;           ///< the user's name for it if set (run_meta), else the trainer's
    std::string original_name;  ///< the trainer's name
    std::string notes;
    std::vector<std::string> tags;
    std::string status;   ///< running, finished, failed, crashed
    std::string host;
    std::int64_t pid = 0;
    double started_ms = 0;
    double ended_ms = 0;  ///< 0 while running
    double last_ms = 0;   ///< time of the newest point
    std::int64_t dropped = 0;
    std::int64_t points = 0;
    std::int64_t last_seq = 0;
    std::vector<int> ranks;
    std::vector<std::string> metrics;
};

}  // namespace trainscope::agent
