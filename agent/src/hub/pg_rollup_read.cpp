#include "hub/pg_rollup_read.hpp"

#include <cstdlib>
#include <limits>
#include <string>

#include "forward/pg_connection.hpp"
#include "forward/pg_rollups.hpp"
#include "store/rollup_cover.hpp"

namespace trainscope::agent {

std::int64_t pg_add_from_rollups(PgConnection& pg, std::int64_t series_id, std::int64_t lo, std::int64_t hi,
                                 MinMaxBuckets& buckets) {
    // Each piece is one range of a primary key (rollups) or of the (series_id, step) index
    // (points); numbers only, so they go into the text as literals, one statement per table.
    std::string id = std::to_string(series_id), rollups, points;
    for (const RollupPiece& piece : rollup_cover(lo, hi, buckets.width_bits())) {
        std::string range = " BETWEEN " + std::to_string(piece.first) + " AND " + std::to_string(piece.last);
        if (piece.level >= 0) {
            rollups += rollups.empty() ? "" : " UNION ALL ";
            rollups += std::string("SELECT ") + kRollupBucketColumns + " FROM trainscope.rollups WHERE series_id = " +
                       id + " AND level = " + std::to_string(piece.level) + " AND bucket" + range;
        } else {
            points += points.empty() ? "" : " UNION ALL ";
            points += "SELECT seq, step, t_us, value FROM trainscope.points WHERE series_id = " + id +
                      " AND step" + range;
        }
    }
    std::int64_t total = 0;
    if (!rollups.empty()) {
        PgResult rows = pg.exec(rollups);
        for (int i = 0; i < rows.rows(); ++i) {
            EnvelopeBucket b = read_pg_rollup_bucket(rows, i, 0);
            total += b.count;
            buckets.add(b);
        }
    }
    if (!points.empty()) {
        PgResult rows = pg.exec(points);
        for (int i = 0; i < rows.rows(); ++i) {
            double value = rows.is_null(i, 3) ? std::numeric_limits<double>::quiet_NaN()
                                              : std::strtod(rows.text(i, 3).c_str(), nullptr);
            buckets.add(StoredPoint{rows.int64(i, 0), rows.int64(i, 1), static_cast<double>(rows.int64(i, 2)) / 1000.0,
                                    value});
        }
        total += rows.rows();
    }
    return total;
}

}  // namespace trainscope::agent
