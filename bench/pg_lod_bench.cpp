// pg_lod_bench — the hub's series answers on PostgreSQL (issue 17), each against a baseline in
// the same binary:
//
//   BM_hub_lod/<zoom>    PgReader::series, max_points=1000, on one series of 10 M points: the
//                        whole range (zoom 0) and the middle 10 %, 1 %, 0.01 % (zoom 10, 100,
//                        10000). Rollups where whole buckets fit, raw rows at the edges.
//   BM_hub_raw/<zoom>    the baseline: the same range's rows read by the (series_id, step)
//                        index and fed to the same envelope (what the hub did before rollups).
//   BM_hub_latest_400    the newest point of 400 series (50 runs x 8 metrics), one `?last=1`
//                        request each on one reader: trainscope.latest.
//   BM_hub_latest_400_scan  the baseline: each series' newest point from points itself (a
//                        descent of its (series_id, seq) key, the best a read of points can do).
//   BM_hub_figures_400   the runs table's figures (latest, best, count) of the same 400 series
//                        in one statement (hub/pg_series_figures.hpp: latest + coarsest rollups);
//   BM_hub_figures_400_scan  the baseline: the same figures from points in one statement.
//   BM_hub_request_latest  one `?last=1` as an HTTP request makes it: a new reader on the pool;
//   BM_pg_connect        a new connection alone (what the hub's pool saves a request).
//   BM_ship_batch        write_batch of 100,000 points over 16 series (COPY, ledger, latest,
//                        rollups, run row, NOTIFY: one transaction), into a growing table.
//   BM_ship_rollups      what rollups add to it: the same kind of 100,000 new points summed
//                        and merged into trainscope.rollups alone, in a transaction of its own.
//                        Their ratio is the shipper's cost of rollups.
//
// A real PostgreSQL 15 of the bench's own (tests/support/postgres_server.hpp: initdb in /tmp,
// a Unix socket, stopped by pid at the end), filled through write_batch in batches of 500,000
// (binary COPY, the real shipping path) each run: about a minute for the 10 M points. Times
// are wall clock (most of the work is in the PostgreSQL server process, not this one); the
// machine's load is printed with them. The plans of the hub's series queries are printed too
// (EXPLAIN with sequential scans disabled: a query that still scans has no index to use).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "bench_util.hpp"
#include "forward/pg_connection.hpp"
#include "forward/pg_rollups.hpp"
#include "forward/pg_schema.hpp"
#include "forward/ship_batch.hpp"
#include "hub/pg_pool.hpp"
#include "hub/pg_reader.hpp"
#include "hub/pg_run_admin.hpp"
#include "store/downsample.hpp"
#include "support/postgres_server.hpp"

namespace {

using trainscope::bench::result;
namespace agent = trainscope::agent;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kLongPoints = 10'000'000;
constexpr std::size_t kMaxPoints = 1000;
constexpr int kLatestRuns = 50, kLatestMetrics = 8;
constexpr int kShipSeries = 16;
constexpr std::int64_t kShipBatch = 100'000;
const char* const kAgent = "0123456789abcdef0123456789abcdef";
const char* const kLongSession = "01BENCHPGLOD0LONG000000000";

std::string latest_session(int r) { return "01BENCHPGLATEST" + std::to_string(1000 + r); }
std::string latest_metric(int m) { return "val/metric" + std::to_string(m); }

std::unique_ptr<trainscope::test::PostgresServer> server;
std::string conninfo;
std::int64_t long_series = 0;
std::int64_t batch_seq = 0;

/// A noisy decaying curve with a spike now and then and a NaN now and then.
double value_at(std::int64_t step, int series) {
    std::uint64_t h = static_cast<std::uint64_t>(step) * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(series);
    h ^= h >> 29;
    if (h % 1'000'003 == 0) return std::numeric_limits<double>::quiet_NaN();
    double v = 4.0 / (1.0 + 1e-5 * static_cast<double>(step)) + 0.05 * static_cast<double>(h % 1000) / 1000.0;
    return h % 100'003 == 0 ? v * 20 : v;
}

std::int64_t new_series(agent::PgConnection& pg, const std::string& session, int rank, const std::string& name) {
    return pg.exec("INSERT INTO trainscope.series (session_id, agent_id, host, rank, name) VALUES ($1, $2, 'bench', $3, $4) "
                   "RETURNING id",
                   {session, std::string(kAgent), std::to_string(rank), name})
        .int64(0, 0);
}

/// One batch through the shipping path: its points, the run's row with its new position.
void ship(agent::PgConnection& pg, const std::string& session, std::vector<agent::PgPointRow> points, bool first) {
    agent::ShipBatch b;
    b.agent_id = kAgent;
    b.host = "bench";
    b.batch_seq = ++batch_seq;
    agent::PgRunRow run;
    run.session_id = session;
    run.name = session;
    run.status = "running";
    run.pid = ::getpid();
    run.started_ms = 1.8e12;
    run.last_ms = 1.8e12;
    for (const agent::PgPointRow& p : points) run.shipped_seq = std::max(run.shipped_seq, p.seq);
    run.shared_row = first;
    b.runs.push_back(run);
    b.points = std::move(points);
    b.notify_payload = agent::notify_payload(b);
    agent::write_batch(pg, b);
}

void fill() {
    agent::PgConnection pg(conninfo);
    agent::ensure_pg_schema(pg);
    auto t0 = Clock::now();
    long_series = new_series(pg, kLongSession, 0, "train/loss");
    constexpr std::int64_t kFillBatch = 500'000;
    std::vector<agent::PgPointRow> points;
    for (std::int64_t first = 0; first < kLongPoints; first += kFillBatch) {
        points.clear();
        for (std::int64_t s = first; s < std::min(first + kFillBatch, kLongPoints); ++s)
            points.push_back({long_series, s + 1, s, 1'800'000'000'000'000 + s * 1000, value_at(s, 0)});
        ship(pg, kLongSession, points, first == 0);
    }
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("filled %lld points through write_batch in %.1f s (%.0f points/s, rollups included), load %s\n",
                static_cast<long long>(kLongPoints), seconds, static_cast<double>(kLongPoints) / seconds,
                trainscope::bench::load_average().c_str());
    // 400 series for the latest-value lookups: 50 runs x 8 metrics, 100 points each.
    for (int r = 0; r < kLatestRuns; ++r) {
        std::string session = latest_session(r);
        points.clear();
        for (int m = 0; m < kLatestMetrics; ++m) {
            std::int64_t id = new_series(pg, session, 0, latest_metric(m));
            for (std::int64_t s = 0; s < 100; ++s)
                points.push_back({id, s * kLatestMetrics + m + 1, s, 1'800'000'000'000'000 + s, value_at(s, m)});
        }
        ship(pg, session, points, true);
    }
    pg.exec("VACUUM ANALYZE");  // as autovacuum would have by now on a living database
    std::fflush(stdout);
}

/// The middle 1/zoom of the series' steps (zoom 0: all of them).
std::pair<std::int64_t, std::int64_t> zoom_range(std::int64_t zoom) {
    if (zoom == 0) return {0, kLongPoints - 1};
    std::int64_t width = kLongPoints / zoom, from = (kLongPoints - width) / 2;
    return {from, from + width - 1};
}

agent::SeriesRequest long_request(std::int64_t zoom) {
    agent::SeriesRequest req;
    req.session_id = kLongSession;
    req.metric = "train/loss";
    req.rank = 0;
    req.max_points = kMaxPoints;
    std::tie(req.from, req.to) = zoom_range(zoom);
    return req;
}

void BM_hub_lod(benchmark::State& state) {
    agent::PgPool pool(conninfo);
    agent::PgReader hub(pool);
    agent::SeriesRequest req = long_request(state.range(0));
    for (auto _ : state) {
        std::size_t points = 0;
        agent::SeriesResult r = hub.series(req, [](const agent::SeriesResult&) {}, [&points](const agent::StoredPoint&) { ++points; });
        if (r.total != req.to - req.from + 1 || points == 0 || points > kMaxPoints) state.SkipWithError("unexpected answer");
        benchmark::DoNotOptimize(points);
    }
}

void BM_hub_raw(benchmark::State& state) {
    agent::PgConnection pg(conninfo);
    auto [from, to] = zoom_range(state.range(0));
    for (auto _ : state) {
        agent::MinMaxBuckets buckets(from, to, kMaxPoints);
        pg.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        pg.exec("DECLARE raw NO SCROLL CURSOR FOR SELECT seq, step, t_us, value FROM trainscope.points "
                "WHERE series_id = $1 AND step BETWEEN $2 AND $3",
                {std::to_string(long_series), std::to_string(from), std::to_string(to)});
        for (;;) {
            agent::PgResult rows = pg.exec("FETCH 20000 FROM raw");
            for (int i = 0; i < rows.rows(); ++i)
                buckets.add(agent::StoredPoint{rows.int64(i, 0), rows.int64(i, 1),
                                               static_cast<double>(rows.int64(i, 2)) / 1000.0,
                                               agent::pg_double(rows.text(i, 3), rows.is_null(i, 3))});
            if (rows.rows() < 20000) break;
        }
        pg.exec("ROLLBACK");
        auto points = buckets.take();
        benchmark::DoNotOptimize(points.data());
    }
}

void BM_hub_latest_400(benchmark::State& state) {
    agent::PgPool pool(conninfo);
    agent::PgReader hub(pool);
    for (auto _ : state) {
        int found = 0;
        for (int r = 0; r < kLatestRuns; ++r)
            for (int m = 0; m < kLatestMetrics; ++m) {
                agent::SeriesRequest req;
                req.session_id = latest_session(r);
                req.metric = latest_metric(m);
                req.last_only = true;
                hub.series(req, [](const agent::SeriesResult&) {}, [&found](const agent::StoredPoint&) { ++found; });
            }
        if (found != kLatestRuns * kLatestMetrics) state.SkipWithError("a series had no latest point");
    }
}

void BM_hub_figures_400(benchmark::State& state) {
    agent::PgPool pool(conninfo);
    agent::PgReader hub(pool);
    std::vector<std::string> runs, metrics;
    for (int r = 0; r < kLatestRuns; ++r) runs.push_back(latest_session(r));
    for (int m = 0; m < kLatestMetrics; ++m) metrics.push_back(latest_metric(m));
    for (auto _ : state) {
        int found = 0;
        for (const auto& run : hub.series_figures(runs, metrics))
            for (const agent::MetricFigures& f : run) found += f.found && f.points == 100 ? 1 : 0;
        if (found != kLatestRuns * kLatestMetrics) state.SkipWithError("figures missing");
    }
}

void BM_hub_latest_400_scan(benchmark::State& state) {
    agent::PgConnection pg(conninfo);
    for (auto _ : state) {
        int found = 0;
        for (int r = 0; r < kLatestRuns; ++r)
            for (int m = 0; m < kLatestMetrics; ++m)
                found += pg.exec("SELECT p.seq, p.step, p.t_us, p.value FROM trainscope.series s "
                                 "JOIN LATERAL (SELECT * FROM trainscope.points WHERE series_id = s.id "
                                 "ORDER BY seq DESC LIMIT 1) p ON true "
                                 "WHERE s.session_id = $1 AND s.name = $2 ORDER BY s.rank LIMIT 1",
                                 {latest_session(r), latest_metric(m)})
                             .rows();
        if (found != kLatestRuns * kLatestMetrics) state.SkipWithError("a series had no point");
    }
}

/// The same figures as BM_hub_figures_400 from points (what a hub without latest and rollups
/// would read): newest by the (series_id, seq) key, best and count over the series' rows.
void BM_hub_figures_400_scan(benchmark::State& state) {
    agent::PgConnection pg(conninfo);
    std::vector<std::string> runs, metrics;
    for (int r = 0; r < kLatestRuns; ++r) runs.push_back(latest_session(r));
    for (int m = 0; m < kLatestMetrics; ++m) metrics.push_back(latest_metric(m));
    for (auto _ : state) {
        agent::PgResult r = pg.exec(
            "SELECT f.session_id, f.name, l.value, l.step, b.hi, b.n FROM (SELECT DISTINCT ON (session_id, name) "
            "session_id, name, id FROM trainscope.series WHERE session_id = ANY($1::text[]) AND name = ANY($2::text[]) "
            "ORDER BY session_id, name, rank, id) f "
            "LEFT JOIN LATERAL (SELECT value, step FROM trainscope.points WHERE series_id = f.id ORDER BY seq DESC LIMIT 1) l ON true "
            "LEFT JOIN LATERAL (SELECT max(value) AS hi, count(*) AS n FROM trainscope.points WHERE series_id = f.id) b ON true",
            {agent::pg_text_array(runs), agent::pg_text_array(metrics)});
        if (r.rows() != kLatestRuns * kLatestMetrics) state.SkipWithError("figures missing");
    }
}

/// What BM_hub_request_latest pays before its query: a new connection alone.
void BM_pg_connect(benchmark::State& state) {
    for (auto _ : state) {
        agent::PgConnection pg(conninfo);
        benchmark::DoNotOptimize(pg.handle());
    }
}

/// A hub request as the HTTP server makes it: a new reader on the hub's pool, one `?last=1`.
void BM_hub_request_latest(benchmark::State& state) {
    agent::PgPool pool(conninfo);
    for (auto _ : state) {
        agent::PgReader hub(pool);
        agent::SeriesRequest req;
        req.session_id = latest_session(0);
        req.metric = latest_metric(0);
        req.last_only = true;
        int found = 0;
        hub.series(req, [](const agent::SeriesResult&) {}, [&found](const agent::StoredPoint&) { ++found; });
        if (found != 1) state.SkipWithError("no latest point");
    }
}

/// 100,000 new points over the shipping series, steps going on where the last batch stopped.
std::vector<agent::PgPointRow> next_ship_points(const std::vector<std::int64_t>& ids) {
    static std::int64_t seq = 0;
    std::vector<agent::PgPointRow> points;
    points.reserve(kShipBatch);
    for (std::int64_t k = 0; k < kShipBatch; ++k, ++seq)
        points.push_back({ids[static_cast<std::size_t>(seq % kShipSeries)], seq + 1, seq / kShipSeries,
                          1'700'000'000'000'000 + seq, 0.001 * static_cast<double>(seq % 9973)});
    return points;
}

std::vector<std::int64_t> ship_series(agent::PgConnection& pg) {
    static std::vector<std::int64_t> ids;
    if (ids.empty())
        for (int s = 0; s < kShipSeries; ++s) ids.push_back(new_series(pg, "01BENCHPGSHIP", s / 2, "m" + std::to_string(s % 2)));
    return ids;
}

void BM_ship_batch(benchmark::State& state) {
    agent::PgConnection pg(conninfo);
    std::vector<std::int64_t> ids = ship_series(pg);
    bool first = true;
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<agent::PgPointRow> points = next_ship_points(ids);
        state.ResumeTiming();
        ship(pg, "01BENCHPGSHIP", std::move(points), first);
        first = false;
    }
    state.SetItemsProcessed(state.iterations() * kShipBatch);
}

void BM_ship_rollups(benchmark::State& state) {
    agent::PgConnection pg(conninfo);
    std::vector<std::int64_t> ids = ship_series(pg);
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<agent::PgPointRow> points = next_ship_points(ids);
        state.ResumeTiming();
        pg.exec("BEGIN");
        agent::PgRollupDelta delta;
        for (const agent::PgPointRow& p : points)
            delta.add(p.series_id, agent::StoredPoint{p.seq, p.step, static_cast<double>(p.t_us) / 1000.0, p.value});
        delta.merge_into(pg);
        pg.exec("COMMIT");
    }
    state.SetItemsProcessed(state.iterations() * kShipBatch);
}

/// The plan of each statement the hub runs for a series answer, with sequential scans
/// disabled: a plan that still scans has no index to use.
void print_plans() {
    agent::PgConnection pg(conninfo);
    pg.exec("SET enable_seqscan = off");
    std::string id = std::to_string(long_series);
    std::string cols = agent::kRollupBucketColumns;
    const std::pair<const char*, std::string> queries[] = {
        {"series of (run, metric, rank)", "SELECT id, rank FROM trainscope.series WHERE session_id = 'x' AND name = 'y' AND rank = 0 ORDER BY id LIMIT 1"},
        {"series of (run, metric), lowest rank", "SELECT id, rank FROM trainscope.series WHERE session_id = 'x' AND name = 'y' ORDER BY rank, id LIMIT 1"},
        {"run's seq", "SELECT sum(shipped_seq) FROM trainscope.run_nodes WHERE session_id = 'x'"},
        {"step bounds", "SELECT min(step), max(step) FROM trainscope.points WHERE series_id = " + id},
        {"rollup rows of a level", "SELECT " + cols + " FROM trainscope.rollups WHERE series_id = " + id + " AND level = 15 AND bucket BETWEEN 1 AND 300"},
        {"raw rows at an edge", "SELECT seq, step, t_us, value FROM trainscope.points WHERE series_id = " + id + " AND step BETWEEN 1000 AND 1063"},
        {"count of a narrow range", "SELECT count(*) FROM trainscope.points WHERE series_id = " + id + " AND step BETWEEN 1000 AND 2000"},
        {"full-resolution rows", "SELECT seq, step, t_us, value FROM trainscope.points WHERE series_id = " + id + " AND step BETWEEN 1000 AND 2000 ORDER BY step, seq"},
        {"latest (?last=1)", "SELECT s.rank, l.seq, l.step, l.t_us, l.value, (SELECT sum(shipped_seq) FROM trainscope.run_nodes WHERE session_id = 'x') "
                             "FROM trainscope.series s LEFT JOIN trainscope.latest l ON l.series_id = s.id WHERE s.session_id = 'x' AND s.name = 'y' AND s.rank = 0 ORDER BY s.id LIMIT 1"},
        {"newest run", "SELECT session_id FROM trainscope.runs ORDER BY started_ms DESC, session_id COLLATE \"C\" DESC LIMIT 1"},
        {"events of a run", "SELECT rank, t_ms, kind, text FROM trainscope.events WHERE session_id = 'x' ORDER BY t_ms, agent_id, local_id"},
    };
    std::printf("\nPlans (EXPLAIN, sequential scans disabled), top node and every scan:\n");
    int scanning = 0;
    for (const auto& [what, sql] : queries) {
        agent::PgResult plan = pg.exec("EXPLAIN " + sql);
        std::string scans;
        for (int i = 0; i < plan.rows(); ++i) {
            std::string line = plan.text(i, 0);
            if (line.find("Scan") != std::string::npos) {
                auto at = line.find_first_not_of(" ->");
                scans += (scans.empty() ? "" : "; ") + line.substr(at, line.find("  (cost") - at);
            }
        }
        bool seq = scans.find("Seq Scan") != std::string::npos;
        scanning += seq ? 1 : 0;
        std::printf("  %-38s %s%s\n", what, scans.c_str(), seq ? "   <-- SCANS" : "");
    }
    result("pg_hub_queries_scanning", scanning);
}

void summary(const trainscope::bench::SummaryReporter& rep) {
    std::printf("\nSummary: hub series answers on PostgreSQL (wall ms, medians), load %s\n",
                trainscope::bench::load_average().c_str());
    std::printf("  %-46s %10s %12s %10s\n", "request", "ms", "baseline ms", "x faster");
    const std::int64_t zooms[] = {0, 10, 100, 10000};
    const char* names[] = {"10M-point series -> 1000: whole range", "  zoom 10%", "  zoom 1%", "  zoom 0.01%"};
    const char* keys[] = {"whole", "zoom10", "zoom1", "zoom001"};
    for (std::size_t i = 0; i < std::size(zooms); ++i) {
        std::string arg = "/" + std::to_string(zooms[i]);
        double lod = rep.real("BM_hub_lod" + arg), raw = rep.real("BM_hub_raw" + arg);
        if (lod <= 0) continue;
        std::printf("  %-46s %10.2f %12.2f %10.1f\n", names[i], lod, raw, raw > 0 ? raw / lod : 0.0);
        result(("pg_hub_" + std::string(keys[i]) + "_ms").c_str(), lod);
        if (raw > 0) result(("pg_hub_" + std::string(keys[i]) + "_raw_ms").c_str(), raw);
    }
    double latest = rep.real("BM_hub_latest_400"), scan = rep.real("BM_hub_latest_400_scan");
    if (latest > 0) {
        std::printf("  %-46s %10.2f %12.2f %10.1f\n", "latest of 400 series (?last=1 each)", latest, scan,
                    scan > 0 ? scan / latest : 0.0);
        result("pg_hub_latest400_ms", latest);
        if (scan > 0) result("pg_hub_latest400_points_ms", scan);
    }
    double figures = rep.real("BM_hub_figures_400"), figures_scan = rep.real("BM_hub_figures_400_scan");
    if (figures > 0) {
        std::printf("  %-46s %10.2f %12.2f %10.1f\n", "latest (and best, count) of 400 series, 1 statement",
                    figures, figures_scan, figures_scan > 0 ? figures_scan / figures : 0.0);
        result("pg_hub_figures400_ms", figures);
        if (figures_scan > 0) result("pg_hub_figures400_points_ms", figures_scan);
    }
    double request = rep.real("BM_hub_request_latest");
    if (request > 0) {
        std::printf("  %-46s %10.2f\n", "one ?last=1 request (a reader on the pool)", request);
        result("pg_hub_request_latest_ms", request);
        double connect = rep.real("BM_pg_connect");
        if (connect > 0) std::printf("  %-46s %10.2f\n", "a new connection (what the pool saves)", connect);
    }
    double ship = rep.real("BM_ship_batch"), rollups = rep.real("BM_ship_rollups");
    if (ship > 0 && rollups > 0) {
        std::printf("  %-46s %10.2f %12.2f %10s\n", "write_batch, 100,000 points (rollups alone)", ship, rollups, "");
        std::printf("  shipping cost of rollups: %.0f%% of a batch; a batch takes %.2fx what it took without them\n",
                    100 * rollups / ship, ship / std::max(1e-9, ship - rollups));
        result("pg_ship_batch_ms", ship);
        result("pg_ship_rollups_ms", rollups);
    }
    double whole = rep.real("BM_hub_lod/0");
    if (whole > 0 && figures > 0)
        std::printf("Goals: whole range -> 1000 points <= 150 ms: %.1f ms %s; latest of 400 series <= 100 ms: "
                    "%.1f ms in one statement %s (%.1f ms as 400 ?last=1 on one connection)\n",
                    whole, whole <= 150 ? "PASS" : "MISS", figures, figures <= 100 ? "PASS" : "MISS", latest);
    print_plans();
}

void register_all() {
    auto* lod = benchmark::RegisterBenchmark("BM_hub_lod", BM_hub_lod);
    auto* raw = benchmark::RegisterBenchmark("BM_hub_raw", BM_hub_raw);
    for (std::int64_t z : {0, 10, 100, 10000}) {
        lod->Arg(z);
        raw->Arg(z);
    }
    lod->Unit(benchmark::kMillisecond)->UseRealTime();
    // A raw read of 10 M rows takes many seconds: one iteration and repetition says enough.
    raw->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1)->Repetitions(1);
    benchmark::RegisterBenchmark("BM_hub_latest_400", BM_hub_latest_400)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("BM_hub_latest_400_scan", BM_hub_latest_400_scan)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("BM_hub_figures_400", BM_hub_figures_400)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("BM_hub_figures_400_scan", BM_hub_figures_400_scan)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("BM_hub_request_latest", BM_hub_request_latest)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("BM_pg_connect", BM_pg_connect)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("BM_ship_batch", BM_ship_batch)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(8);
    benchmark::RegisterBenchmark("BM_ship_rollups", BM_ship_rollups)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(8);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        server = std::make_unique<trainscope::test::PostgresServer>();
        conninfo = server->conninfo();
        fill();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pg_lod_bench: %s\n", e.what());
        return 1;
    }
    register_all();
    int status = trainscope::bench::run_main(
        argc, argv, {"--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"}, summary);
    server.reset();  // stopped by pid, its directory removed
    return status;
}
