// The read side of the runs table (GET /api/runs/table): every run's row with its config and
// the latest and best value of the metrics asked for, in a few statements whatever the number
// of runs (no per-point scan except a series' best, see runs_table.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/queries.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

/// A metric's figures in one run, at its lowest rank.
struct MetricFigures {
    bool found = false;  ///< the run logged this metric
    double latest = 0;   ///< value of the point with the highest seq (NaN: logged NaN)
    std::int64_t latest_step = 0;
    double best = 0;     ///< min for loss-like names, else max; NaN if every value is NaN
    std::int64_t points = 0;
};

struct RunsTableRow {
    RunInfo run;         ///< ranks filled, metrics left empty
    std::string config;  ///< the trainer's JSON text, "" if none
    std::vector<MetricFigures> figures;  ///< one per metric asked for, in that order
};

struct RunsTable {
    std::vector<RunsTableRow> rows;   ///< newest first
    bool more = false;                ///< runs beyond the limit match too
    std::vector<std::string> metric_names;  ///< every metric any run logged, sorted
};

/// Whether smaller is better for a metric of this name (loss, error, perplexity, ...).
bool lower_is_better(std::string_view metric);

/// The rows of the runs matching `filter` (its limit applies, its cursor does not).
RunsTable read_runs_table(Db& db, const Queries::RunFilter& filter, const std::vector<std::string>& metrics);

}  // namespace trainscope::agent
