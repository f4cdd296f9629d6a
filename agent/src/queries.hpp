// The read side of the database: runs, series (with spike-keeping downsampling), and the
// points a reconnecting WebSocket client missed. One Queries per thread (its own
// read-only connection; WAL lets readers run beside the collector's writes).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "sqlite.hpp"
#include "types.hpp"

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

struct SeriesResult {
    bool found = false;  ///< false: no such metric in this run
    int rank = 0;
    std::vector<StoredPoint> points;
    bool downsampled = false;
    std::int64_t total = 0;  ///< points in the requested range at full resolution (last_only: returned)
    std::int64_t seq = 0;    ///< the run's newest seq in the same snapshot as the points
};

class Queries {
public:
    explicit Queries(const std::string& db_path);

    std::vector<RunInfo> runs();
    std::optional<RunInfo> run(const std::string& session_id);
    /// The newest run's id, if any.
    std::optional<std::string> newest_session();
    /// Raw JSON text the trainer set (config or model_info); nullopt if the run is unknown,
    /// an empty string if it never set it.
    std::optional<std::string> run_text(const std::string& session_id, const char* column);

    SeriesResult series(const SeriesRequest& request);

    /// Points of a session with since < seq <= upto, grouped per series, in seq order.
    std::vector<SeriesUpdate> points_since(const std::string& session_id, std::int64_t since,
                                           std::int64_t upto);

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
           "SELECT s.name, s.rank, p.step, p.t_us, p.value FROM series s JOIN points p "
           "ON p.series_id = s.id WHERE s.session_id=? ORDER BY s.name, s.rank, p.seq");
    q.bind(1, session_id);
    while (q.step())
        fn(q.text(0), static_cast<int>(q.int64(1)), q.int64(2), q.int64(3),
           q.is_null(4) ? std::numeric_limits<double>::quiet_NaN() : q.real(4));
}

}  // namespace trainscope::agent
