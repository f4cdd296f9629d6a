// What the serving side (REST routes, WebSocket sessions) reads, whatever holds the runs: the
// agent's own SQLite (Queries) or, on a hub, the PostgreSQL that node agents ship to
// (hub/pg_reader.hpp). One reader per thread and request; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/types.hpp"

namespace trainscope::agent {

struct SeriesRequest {
    std::string session_id;
    std::string metric;
    int rank = -1;  ///< -1: the lowest rank that logged this metric
    std::int64_t from = std::numeric_limits<std::int64_t>::min();
    std::int64_t to = std::numeric_limits<std::int64_t>::max();
    std::size_t max_points = 2000;
    bool last_only = false;  ///< only the newest point (highest seq): an index lookup, no scan
};

/// A downsampled answer holds at most this many points, whatever max_points asks: its
/// buckets are held in memory (about 100 bytes a point), and a chart needs far fewer.
inline constexpr std::size_t kMaxDownsampledPoints = 200'000;

struct SeriesResult {
    bool found = false;  ///< false: no such metric in this run
    int rank = 0;
    std::vector<StoredPoint> points;
    bool downsampled = false;
    std::int64_t total = 0;  ///< points in the requested range at full resolution (last_only: returned)
    std::int64_t seq = 0;    ///< the run's newest seq in the same snapshot as the points
};

/// A run's event (a rank's start, end, crash, a plugin's note ...).
struct RunEvent {
    std::int64_t rank = 0;
    double t_ms = 0;
    std::string kind;
    std::string text;
};

class RunReader {
public:
    virtual ~RunReader() = default;

    /// One page of the run list, newest first (started_ms, then session id, descending).
    struct RunFilter {
        /// Substring of the name (the user's or the trainer's), notes, tags or session id,
        /// ASCII case-insensitive; empty: any.
        std::string text;
        std::string status;  ///< exact status; empty: any
        /// Start after this run (the previous page's last): its started_ms and session id.
        std::optional<std::pair<double, std::string>> after;
        std::int64_t limit = 50;
    };
    struct RunPage {
        std::vector<RunInfo> runs;
        bool more = false;  ///< runs beyond this page match too
    };
    virtual RunPage run_page(const RunFilter& filter) = 0;
    virtual std::optional<RunInfo> run(const std::string& session_id) = 0;
    /// The run's newest seq (0 before its first point); nullopt if the run is unknown.
    virtual std::optional<std::int64_t> last_seq(const std::string& session_id) = 0;
    /// How many runs are stored.
    virtual std::int64_t run_count() = 0;
    /// The newest run's id, if any.
    virtual std::optional<std::string> newest_session() = 0;
    /// Raw JSON text the trainer set (config or model_info); nullopt if the run is unknown,
    /// an empty string if it never set it.
    virtual std::optional<std::string> run_text(const std::string& session_id, const char* column) = 0;
    /// Streams a series: `head` gets the figures (found, rank, total, downsampled, seq) before
    /// any point, then `point` each point in step order. `head` is not called for an unknown
    /// series. Returns the figures (without points).
    virtual SeriesResult series(const SeriesRequest& request,
                                const std::function<void(const SeriesResult&)>& head,
                                const std::function<void(const StoredPoint&)>& point) = 0;
    /// The run's events, oldest first.
    virtual std::vector<RunEvent> events(const std::string& session_id) = 0;
    /// Points of a session with since < seq <= upto, grouped per series, in seq order.
    virtual std::vector<SeriesUpdate> points_since(const std::string& session_id, std::int64_t since,
                                                   std::int64_t upto) = 0;
};

}  // namespace trainscope::agent
