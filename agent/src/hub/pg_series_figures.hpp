// The runs table's figures on the hub (GET /api/runs/table: latest, latest_step, best, points of
// a metric at a run's lowest rank) for many runs and metrics in one statement, from the tables
// every batch keeps: the newest point from trainscope.latest, the point count and the best
// value from the coarsest rollup level (a few dozen rows however long the series). Nothing
// reads trainscope.points.
#pragma once

#include <string>
#include <vector>

#include "store/runs_table.hpp"

namespace trainscope::agent {

class PgConnection;

/// figures[i][j]: run session_ids[i], metric metrics[j] (found false if the run never logged
/// it). best is the min for loss-like names (lower_is_better) else the max, of the finite
/// values: unlike a node, which takes MIN/MAX over its rows, ±Inf never counts as best
/// (rollups keep min and max of finite values only); NaN if the series has no finite value.
std::vector<std::vector<MetricFigures>> pg_series_figures(PgConnection& pg, const std::vector<std::string>& session_ids,
                                                          const std::vector<std::string>& metrics);

}  // namespace trainscope::agent
