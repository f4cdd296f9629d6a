#include "hub/pg_series_figures.hpp"

#include <cstdlib>
#include <limits>
#include <map>
#include <utility>

#include "forward/pg_connection.hpp"
#include "hub/pg_run_admin.hpp"  // pg_text_array
#include "store/rollups.hpp"

namespace trainscope::agent {

std::vector<std::vector<MetricFigures>> pg_series_figures(PgConnection& pg, const std::vector<std::string>& session_ids,
                                                          const std::vector<std::string>& metrics) {
    std::vector<std::vector<MetricFigures>> out(session_ids.size(), std::vector<MetricFigures>(metrics.size()));
    if (session_ids.empty() || metrics.empty()) return out;
    // The lowest rank's series of each (run, metric), then one primary-key lookup in latest
    // and one range of the coarsest rollup level per series.
    PgResult r = pg.exec(
        "SELECT f.session_id, f.name, l.seq IS NOT NULL, l.value, l.step, b.lo, b.hi, COALESCE(b.n, 0) "
        "FROM (SELECT DISTINCT ON (session_id, name) session_id, name, id FROM trainscope.series "
        "      WHERE session_id = ANY($1::text[]) AND name = ANY($2::text[]) ORDER BY session_id, name, rank, id) f "
        "LEFT JOIN trainscope.latest l ON l.series_id = f.id "
        "LEFT JOIN LATERAL (SELECT min(min_value) AS lo, max(max_value) AS hi, sum(count) AS n "
        "      FROM trainscope.rollups WHERE series_id = f.id AND level = $3) b ON true",
        {pg_text_array(session_ids), pg_text_array(metrics), std::to_string(kRollupLevels.back())});
    std::map<std::string, std::size_t> run_index, metric_index;
    for (std::size_t i = 0; i < session_ids.size(); ++i) run_index.emplace(session_ids[i], i);
    for (std::size_t j = 0; j < metrics.size(); ++j) metric_index.emplace(metrics[j], j);
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    auto number = [&r](int row, int col) {
        return r.is_null(row, col) ? kNaN : std::strtod(r.text(row, col).c_str(), nullptr);
    };
    for (int row = 0; row < r.rows(); ++row) {
        auto run = run_index.find(r.text(row, 0));
        auto metric = metric_index.find(r.text(row, 1));
        if (run == run_index.end() || metric == metric_index.end()) continue;
        MetricFigures& f = out[run->second][metric->second];
        f.found = true;
        bool any = r.text(row, 2) == "t";
        f.latest = any ? number(row, 3) : kNaN;
        f.latest_step = any ? r.int64(row, 4) : 0;
        f.best = lower_is_better(metric->first) ? number(row, 5) : number(row, 6);
        f.points = r.int64(row, 7);
    }
    return out;
}

}  // namespace trainscope::agent
