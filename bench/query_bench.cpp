// query_bench — how fast the agent answers GET /api/runs/{id}/metrics/{name} for a long
// series: the chart's downsampled view and the run list's newest point, against a raw scan.
//
// One database, written once through the agent's Store: a run with one series of 2^20 points
// (steps in order, as trainers log them). Then, each with its own read connection:
//   BM_series_downsampled   Queries::series, max_points=1000 (min/max buckets): what the page
//                           asks for when it opens a run.
//   BM_series_last          Queries::series with last_only (?last=1): the run list's latest loss.
//   BM_series_zoom/1, /10   Queries::series, max_points=1000, from/to the middle 1% or 10% of
//                           the steps: the page's zoom. Baseline: BM_scan_zoom, raw sqlite3
//                           reading just that range's rows by seq.
//   BM_scan_floor           the baseline: raw sqlite3, every row of the series read once in the
//                           table's order, nothing done with it — no answer over the whole
//                           range can cost less.
//   BM_downsample_step_sorted  an experiment: the same buckets fed by ORDER BY step, seq (the
//                           query the agent used before), to show what the sort costs.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench_util.hpp"
#include "store/downsample.hpp"
#include "store/point_layout.hpp"
#include "store/queries.hpp"
#include "store/store.hpp"

namespace {

using trainscope::bench::result;

constexpr std::size_t kPoints = 1u << 20;
constexpr std::size_t kBatch = 65536;
const char* const kSession = "01BENCHQUERY00000000000000";

/// The database every benchmark reads, made once; removed at exit.
class Fixture {
public:
    Fixture() {
        char tmpl[] = "/tmp/tsbench-query-XXXXXX";
        if (!::mkdtemp(tmpl)) {
            std::perror("mkdtemp");
            std::exit(1);
        }
        dir_ = tmpl;
        path_ = dir_ + "/trainscope.db";
        trainscope::agent::Store store(path_);
        store.register_run(kSession, "query_bench", "localhost", ::getpid(), 1.8e12);
        series_id_ = store.series_id(kSession, 0, "train/loss");
        trainscope::agent::CommitBatch batch;
        for (std::size_t first = 0; first < kPoints; first += kBatch) {
            batch.points.clear();
            for (std::size_t i = first; i < first + kBatch; ++i)
                batch.points.push_back(trainscope::agent::PendingPoint{
                    series_id_, static_cast<std::int64_t>(i), 1'800'000'000'000'000 + static_cast<std::int64_t>(i) * 1000,
                    4.0 / (1.0 + 0.001 * static_cast<double>(i)) + 0.01 * static_cast<double>(i % 7)});
            store.commit(batch);
        }
    }
    ~Fixture() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    const std::string& path() const { return path_; }
    std::int64_t series_id() const { return series_id_; }

private:
    std::string dir_, path_;
    std::int64_t series_id_ = 0;
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

trainscope::agent::SeriesRequest request() {
    trainscope::agent::SeriesRequest req;
    req.session_id = kSession;
    req.metric = "train/loss";
    req.max_points = 1000;
    return req;
}

void BM_series_downsampled(benchmark::State& state) {
    trainscope::agent::Queries q(fixture().path());
    for (auto _ : state) {
        auto r = q.series(request());
        if (!r.downsampled || r.points.empty()) state.SkipWithError("expected a downsampled answer");
        benchmark::DoNotOptimize(r.points.data());
    }
}

void BM_series_last(benchmark::State& state) {
    trainscope::agent::Queries q(fixture().path());
    auto req = request();
    req.last_only = true;
    for (auto _ : state) {
        auto r = q.series(req);
        if (r.points.size() != 1 || r.points[0].step != static_cast<std::int64_t>(kPoints - 1))
            state.SkipWithError("expected the newest point");
        benchmark::DoNotOptimize(r.points.data());
    }
}

/// The middle `percent`% of the series' steps.
std::pair<std::int64_t, std::int64_t> zoom_range(std::int64_t percent) {
    std::int64_t width = static_cast<std::int64_t>(kPoints) * percent / 100;
    std::int64_t from = (static_cast<std::int64_t>(kPoints) - width) / 2;
    return {from, from + width - 1};
}

void BM_series_zoom(benchmark::State& state) {
    trainscope::agent::Queries q(fixture().path());
    auto req = request();
    std::tie(req.from, req.to) = zoom_range(state.range(0));
    for (auto _ : state) {
        auto r = q.series(req);
        if (!r.downsampled || r.total != req.to - req.from + 1)
            state.SkipWithError("expected a downsampled answer over the range");
        benchmark::DoNotOptimize(r.points.data());
    }
}

/// Raw sqlite3: steps through `sql` (bound to the series id), calling row(stmt) per row.
template <typename Row>
void raw_query(const char* sql, Row&& row, std::int64_t lo = 0, std::int64_t hi = 0) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(fixture().path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) std::abort();
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) std::abort();
    sqlite3_bind_int64(stmt, 1, fixture().series_id());
    sqlite3_bind_int64(stmt, 2, lo);  // a seq range, for a statement that has one (SQLITE_RANGE
    sqlite3_bind_int64(stmt, 3, hi);  // otherwise, harmless)
    while (sqlite3_step(stmt) == SQLITE_ROW) row(stmt);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

void BM_scan_floor(benchmark::State& state) {
    fixture();
    for (auto _ : state) {
        std::int64_t sum = 0;
        raw_query("SELECT seq, step, t_us, value FROM points WHERE series_id=?", [&](sqlite3_stmt* s) {
            sum += sqlite3_column_int64(s, 1);
        });
        benchmark::DoNotOptimize(sum);
    }
}

/// The zoom's floor: its rows only, located by seq (the fixture's seq is step + 1).
void BM_scan_zoom(benchmark::State& state) {
    fixture();
    auto [from, to] = zoom_range(state.range(0));
    for (auto _ : state) {
        std::int64_t sum = 0;
        // The append-only layout's seq range read (store/point_layout.hpp), as the agent does.
        raw_query(("SELECT p.seq, p.step, p.t_us, p.value FROM " +
                   trainscope::agent::series_point_rows("?1", "?2", "?3") + " ORDER BY c.first_seq, p.rowid")
                      .c_str(),
                  [&](sqlite3_stmt* s) { sum += sqlite3_column_int64(s, 1); }, from + 1, to + 1);
        benchmark::DoNotOptimize(sum);
    }
}

void BM_downsample_step_sorted(benchmark::State& state) {
    fixture();
    for (auto _ : state) {
        trainscope::agent::MinMaxBuckets buckets(0, kPoints - 1, 1000);
        raw_query("SELECT seq, step, t_us, value FROM points WHERE series_id=? ORDER BY step, seq",
                  [&](sqlite3_stmt* s) {
                      buckets.add(trainscope::agent::StoredPoint{
                          sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                          static_cast<double>(sqlite3_column_int64(s, 2)) / 1000.0, sqlite3_column_double(s, 3)});
                  });
        auto points = buckets.take();
        benchmark::DoNotOptimize(points.data());
    }
}

void register_all() {
    for (auto [name, fn] : {std::pair{"BM_series_downsampled", BM_series_downsampled},
                            std::pair{"BM_series_last", BM_series_last}, std::pair{"BM_scan_floor", BM_scan_floor},
                            std::pair{"BM_downsample_step_sorted", BM_downsample_step_sorted}})
        benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMillisecond)->UseRealTime();
    for (auto [name, fn] : {std::pair{"BM_series_zoom", BM_series_zoom}, std::pair{"BM_scan_zoom", BM_scan_zoom}})
        benchmark::RegisterBenchmark(name, fn)->Arg(1)->Arg(10)->Unit(benchmark::kMillisecond)->UseRealTime();
}

void summary(const trainscope::bench::SummaryReporter& rep) {
    double down = rep.real("BM_series_downsampled"), last = rep.real("BM_series_last");
    double scan = rep.real("BM_scan_floor"), sorted = rep.real("BM_downsample_step_sorted");
    std::printf("\nSummary: median ms per query, one series of %zu points, load %s\n", kPoints,
                trainscope::bench::load_average().c_str());
    std::printf("  %-44s %10s %12s\n", "query", "ms", "x scan floor");
    auto row = [&](const char* what, double ms) {
        if (ms > 0) std::printf("  %-44s %10.3f %12.2f\n", what, ms, scan > 0 ? ms / scan : 0.0);
    };
    row("downsampled to 1000 points (the chart)", down);
    row("newest point, ?last=1 (the run list)", last);
    row("raw scan of every row (floor)", scan);
    row("experiment: buckets fed in step order", sorted);
    std::printf("  %-44s %10s %12s\n", "zoom: from/to the middle of the steps", "ms",
                "x zoom floor");
    for (std::string pct : {"1", "10"}) {
        double zoom = rep.real(("BM_series_zoom/" + pct).c_str());
        double floor = rep.real(("BM_scan_zoom/" + pct).c_str());
        if (zoom > 0)
            std::printf("  %-44s %10.3f %12.2f\n", ("middle " + pct + "%, downsampled to 1000").c_str(),
                        zoom, floor > 0 ? zoom / floor : 0.0);
        if (floor > 0)
            std::printf("  %-44s %10.3f\n", ("raw read of the middle " + pct + "% (floor)").c_str(), floor);
    }
    for (std::string pct : {"1", "10"}) {
        double zoom = rep.real(("BM_series_zoom/" + pct).c_str());
        double floor = rep.real(("BM_scan_zoom/" + pct).c_str());
        if (zoom > 0) result(("series_zoom_" + pct + "pct_ms").c_str(), zoom);
        if (floor > 0) result(("series_zoom_floor_" + pct + "pct_ms").c_str(), floor);
    }
    if (down > 0) result("series_downsampled_ms", down);
    if (last > 0) result("series_last_ms", last);
    if (scan > 0) result("series_scan_ms", scan);
    if (sorted > 0) result("series_step_sorted_ms", sorted);
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    return trainscope::bench::run_main(argc, argv, {"--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true"},
                                       summary);
}
