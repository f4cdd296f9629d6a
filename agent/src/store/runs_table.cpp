#include "store/runs_table.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "store/point_layout.hpp"
#include "store/run_meta.hpp"
#include "store/run_rows.hpp"

namespace trainscope::agent {

bool lower_is_better(std::string_view metric) {
    std::string lower(metric);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* word : {"loss", "err", "perplex", "ppl", "mse", "mae", "nll", "wer", "cer"})
        if (lower.find(word) != std::string::npos) return true;
    return false;
}

RunsTable read_runs_table(Db& db, const Queries::RunFilter& filter, const std::vector<std::string>& metrics) {
    RunsTable table;
    // One snapshot for all the statements below: rows, ranks and figures agree.
    db.exec("BEGIN");
    struct EndRead {
        Db& db;
        ~EndRead() { sqlite3_exec(db.handle(), "COMMIT", nullptr, nullptr, nullptr); }
    } end_read{db};

    Stmt runs(db, (std::string("SELECT ") + kRunFields + ", COALESCE(r.config, '') " + kRunSource +
                   " WHERE (?1 = '' OR r.status = ?1) AND (?2 = '' OR " + kRunTextMatch +
                   ") ORDER BY r.started_ms DESC, r.session_id DESC LIMIT ?3")
                      .c_str());
    runs.bind(1, filter.status).bind(2, filter.text).bind(3, filter.limit + 1);
    {
        // Rows are large (a RunInfo and a config each): grow the vector once, not by doubling.
        Stmt count(db, "SELECT COUNT(*) FROM runs");
        std::int64_t n = count.step() ? count.int64(0) : 0;
        table.rows.reserve(static_cast<std::size_t>(std::min(n, filter.limit) + 1));
    }
    std::map<std::string, std::size_t> index;  // session id -> row
    while (runs.step()) {
        RunsTableRow row;
        row.run = read_run(runs);
        row.config = runs.text(kRunFieldCount);
        row.figures.resize(metrics.size());
        index.emplace(row.run.session_id, table.rows.size());
        table.rows.push_back(std::move(row));
    }
    if (static_cast<std::int64_t>(table.rows.size()) > filter.limit) {
        index.erase(table.rows.back().run.session_id);
        table.rows.pop_back();
        table.more = true;
    }

    // Ranks and metric names: one pass over the series table (a few rows per run).
    std::map<std::string, bool> names;
    Stmt series(db, "SELECT session_id, rank, name FROM series ORDER BY session_id, rank");
    while (series.step()) {
        names[std::string(series.text(2))] = true;
        auto it = index.find(std::string(series.text(0)));
        if (it == index.end()) continue;
        std::vector<int>& ranks = table.rows[it->second].run.ranks;
        int rank = static_cast<int>(series.int64(1));
        if (ranks.empty() || ranks.back() != rank) ranks.push_back(rank);
    }
    for (const auto& [name, _] : names) table.metric_names.push_back(name);

    // Each metric: the lowest rank's series of each run; its latest point is one descent of
    // the (series_id, seq) key, its best one aggregate over the series' finite points (a
    // diverged -Inf is no best loss, +Inf no best accuracy; NaN is NULL here). The hub reads
    // the same figures from its rollups, which count NaN and Inf apart (pg_series_figures).
    Stmt of_metric(db, "SELECT session_id, id, points FROM series WHERE name=? ORDER BY session_id, rank");
    Stmt latest(db, ("SELECT step, value FROM point_rows WHERE rowid = " + newest_point_row("?1")).c_str());
    const std::string all = series_point_rows("?1", kFirstSeq, kLastSeq);
    // 9e999 reads as +Inf in SQLite.
    const std::string finite = "CASE WHEN p.value > -9e999 AND p.value < 9e999 THEN p.value END";
    Stmt lowest(db, ("SELECT MIN(" + finite + ") FROM " + all).c_str());
    Stmt highest(db, ("SELECT MAX(" + finite + ") FROM " + all).c_str());
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t k = 0; k < metrics.size(); ++k) {
        Stmt& best = lower_is_better(metrics[k]) ? lowest : highest;
        of_metric.bind(1, metrics[k]);
        while (of_metric.step()) {
            auto it = index.find(std::string(of_metric.text(0)));
            if (it == index.end()) continue;
            MetricFigures& f = table.rows[it->second].figures[k];
            if (f.found) continue;  // a higher rank of a run already seen
            f.found = true;
            f.points = of_metric.int64(2);
            std::int64_t id = of_metric.int64(1);
            latest.bind(1, id);
            if (latest.step()) {
                f.latest_step = latest.int64(0);
                f.latest = latest.is_null(1) ? kNaN : latest.real(1);
            } else {
                f.latest = kNaN;
            }
            latest.reset();
            best.bind(1, id);
            f.best = best.step() && !best.is_null(0) ? best.real(0) : kNaN;
            best.reset();
        }
        of_metric.reset();
    }
    return table;
}

}  // namespace trainscope::agent
