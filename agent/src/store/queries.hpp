// The read side of the database: runs, series (with spike-keeping downsampling), and the
// points a reconnecting WebSocket client missed. One Queries per thread (its own
// read-only connection; WAL lets readers run beside the collector's writes).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/run_reader.hpp"
#include "store/sqlite.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

/// SQL that is true when run r / run_meta m holds ?2 (see RunFilter::text).
extern const char* const kRunTextMatch;

class Queries : public RunReader {
public:
    explicit Queries(const std::string& db_path);

    /// Every run, newest first.
    std::vector<RunInfo> runs();

    RunPage run_page(const RunFilter& filter) override;

    std::optional<RunInfo> run(const std::string& session_id) override;
    /// Runs still running, or whose last activity (end, newest point or start) is at or after
    /// `since_ms`: what /metrics exposes, so ended runs leave the exposition. Newest first,
    /// without ranks and metrics.
    std::vector<RunInfo> runs_active_since(double since_ms);

    /// The newest point (highest seq) of each series of a run: one index lookup per series.
    struct LatestValue {
        std::string metric;
        int rank = 0;
        std::int64_t step = 0;
        double value = 0;  ///< NaN for a NaN point
    };
    /// At most `limit` series, in (metric, rank) order.
    std::vector<LatestValue> latest_values(const std::string& session_id, std::int64_t limit);
    /// The run's newest seq (0 before its first point); nullopt if the run is unknown.
    std::optional<std::int64_t> last_seq(const std::string& session_id) override;
    /// How many runs are stored.
    std::int64_t run_count() override;
    /// The newest run's id, if any.
    std::optional<std::string> newest_session() override;
    /// Raw JSON text the trainer set (config or model_info); nullopt if the run is unknown,
    /// an empty string if it never set it.
    std::optional<std::string> run_text(const std::string& session_id, const char* column) override;

    /// Streams a series, holding at most a downsampled answer's buckets, never the range's
    /// points: `head` gets the figures (found, rank, total, downsampled, seq) before any
    /// point, then `point` each point in step order. `head` is not called for an unknown
    /// series. Returns the figures (without points).
    SeriesResult series(const SeriesRequest& request,
                        const std::function<void(const SeriesResult&)>& head,
                        const std::function<void(const StoredPoint&)>& point) override;
    /// The same, collected into the result's points.
    SeriesResult series(const SeriesRequest& request);

    std::vector<RunEvent> events(const std::string& session_id) override;
    /// Points of a session with since < seq <= upto, grouped per series, in seq order.
    std::vector<SeriesUpdate> points_since(const std::string& session_id, std::int64_t since,
                                           std::int64_t upto) override;

    /// Every point of a run in (metric, rank, seq) order, one callback per point.
    template <typename Fn>
    void for_each_point(const std::string& session_id, Fn&& fn);

    Db& db() { return db_; }

private:
    void fill_details(RunInfo& run);
    Db db_;
};

template <typename Fn>
void Queries::for_each_point(const std::string& session_id, Fn&& fn) {
    Stmt q(db_,
           "SELECT s.name, s.rank, p.step, p.t_us, p.value FROM series s JOIN point_chunks c "
           "ON c.series_id = s.id JOIN point_rows p ON p.rowid BETWEEN c.first_row AND c.last_row "
           "WHERE s.session_id=? ORDER BY s.name, s.rank, c.first_seq, p.rowid");
    q.bind(1, session_id);
    while (q.step())
        fn(q.text(0), static_cast<int>(q.int64(1)), q.int64(2), q.int64(3),
           q.is_null(4) ? std::numeric_limits<double>::quiet_NaN() : q.real(4));
}

}  // namespace trainscope::agent
