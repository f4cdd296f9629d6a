// lod_bench — series requests on long runs with the level-of-detail store (store/rollups.hpp),
// each against a raw scan of the same rows in the same binary.
//
// Two databases, written once through the agent's Store (rollups kept by Store::commit as
// the agent does) and cached under build-bench/lod-cache (LOD_BENCH_CACHE overrides; the
// 80 M-point one takes minutes to write on 2 cores; --benchmark_filter=long writes and
// measures only the first):
//   long    one series of 10 M points, steps 0 .. 10^7 - 1 in order
//   run     8 ranks x 10 metrics x 1 M points, interleaved step by step as trainers log them
// Then, each with its own read connection, for the long series and for one series of the run:
//   BM_lod_<db>/<zoom>  Queries::series, max_points=1000: the whole range (zoom 0) and the
//                       middle 10%, 1%, 0.01% of the steps (zoom 10, 100, 10000: 1/zoom).
//   BM_raw_<db>/<zoom>  the baseline: the same range's rows read by seq (the floor of what a
//                       raw read costs, the seq bounds given), fed to MinMaxBuckets: what
//                       the agent did before rollups.
//   BM_lod_run_all      the run's 80 series, whole range to 1000 points each: the page's first
//                       load of that run (the agent's side).
// And the file size per point: the whole database, and the rollups' share (dbstat).
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "store/downsample.hpp"
#include "store/point_layout.hpp"
#include "store/queries.hpp"
#include "store/store.hpp"

namespace {

using trainscope::bench::result;
namespace agent = trainscope::agent;

constexpr std::int64_t kLongPoints = 10'000'000;
constexpr int kRanks = 8, kMetrics = 10;
constexpr std::int64_t kRunSteps = 1'000'000;
constexpr std::size_t kBatch = 65536;
constexpr std::size_t kMaxPoints = 1000;
const char* const kLongSession = "01BENCHLOD0LONG00000000000";
const char* const kRunSession = "01BENCHLOD0RUN000000000000";

std::string metric_name(int m) { return "train/metric" + std::to_string(m); }

/// A noisy decaying curve with a spike now and then: deterministic, no RNG state.
double value_at(std::int64_t step, int series) {
    std::uint64_t h = static_cast<std::uint64_t>(step) * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(series);
    h ^= h >> 29;
    double noise = static_cast<double>(h % 1000) / 1000.0;
    double v = 4.0 / (1.0 + 1e-5 * static_cast<double>(step)) + 0.05 * noise;
    return h % 100'003 == 0 ? v * 20 : v;
}

std::string cache_dir() {
    if (const char* dir = std::getenv("LOD_BENCH_CACHE")) return dir;
    // bin/lod_bench -> build-bench/lod-cache
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (ec ? std::filesystem::path("/tmp") : exe.parent_path().parent_path()) / "lod-cache";
}

/// Points the database holds, 0 if it does not exist or is unfinished.
std::int64_t stored_points(const std::string& path) {
    if (!std::filesystem::exists(path)) return 0;
    agent::Db db(path, true);
    agent::Stmt q(db, "SELECT COALESCE(SUM(points), 0) FROM series");
    return q.step() ? q.int64(0) : 0;
}

/// Writes the database through Store::commit unless the cache holds it already.
template <typename Fill>
std::string cached_db(const char* name, std::int64_t points, Fill fill) {
    std::filesystem::create_directories(cache_dir());
    std::string path = cache_dir() + "/" + name + ".db";
    if (stored_points(path) == points) {
        agent::Store open(path);  // an older cache gets its rollups here, as the agent would
        return path;
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    std::fprintf(stderr, "lod_bench: writing %s (%lld points) once; cached for later runs\n", path.c_str(),
                 static_cast<long long>(points));
    agent::Store store(path);
    fill(store);
    store.reclaim_space();
    return path;
}

const std::string& long_db() {
    static const std::string path = cached_db("lod-long-10m", kLongPoints, [](agent::Store& store) {
        store.register_run(kLongSession, "lod_bench long", "localhost", ::getpid(), 1.8e12);
        std::int64_t id = store.series_id(kLongSession, 0, "train/loss");
        agent::CommitBatch batch;
        for (std::int64_t first = 0; first < kLongPoints; first += kBatch) {
            batch.points.clear();
            for (std::int64_t s = first; s < std::min<std::int64_t>(first + kBatch, kLongPoints); ++s)
                batch.points.push_back({id, s, 1'800'000'000'000'000 + s * 1000, value_at(s, 0)});
            store.commit(batch);
        }
    });
    return path;
}

const std::string& run_db() {
    static const std::string path =
        cached_db("lod-run-8x10x1m", kRanks * kMetrics * kRunSteps, [](agent::Store& store) {
            store.register_run(kRunSession, "lod_bench run", "localhost", ::getpid(), 1.8e12);
            std::vector<std::int64_t> ids;
            for (int r = 0; r < kRanks; ++r)
                for (int m = 0; m < kMetrics; ++m) ids.push_back(store.series_id(kRunSession, r, metric_name(m)));
            agent::CommitBatch batch;
            for (std::int64_t s = 0; s < kRunSteps;) {
                batch.points.clear();
                for (; s < kRunSteps && batch.points.size() + ids.size() <= kBatch; ++s)
                    for (std::size_t k = 0; k < ids.size(); ++k)
                        batch.points.push_back({ids[k], s, 1'800'000'000'000'000 + s * 1000,
                                                value_at(s, static_cast<int>(k))});
                store.commit(batch);
            }
        });
    return path;
}

/// The middle 1/zoom of `steps` steps (zoom 0: all of them).
std::pair<std::int64_t, std::int64_t> zoom_range(std::int64_t steps, std::int64_t zoom) {
    if (zoom == 0) return {0, steps - 1};
    std::int64_t width = steps / zoom, from = (steps - width) / 2;
    return {from, from + width - 1};
}

// The run's series read: rank 3, metric 5. Its seq for step s (commit order above).
constexpr int kRunRank = 3, kRunMetric = 5;
std::int64_t run_seq(std::int64_t step) { return step * kRanks * kMetrics + kRunRank * kMetrics + kRunMetric + 1; }

void BM_lod(benchmark::State& state, bool run) {
    agent::Queries q(run ? run_db() : long_db());
    agent::SeriesRequest req;
    req.session_id = run ? kRunSession : kLongSession;
    req.metric = run ? metric_name(kRunMetric) : "train/loss";
    req.rank = run ? kRunRank : 0;
    req.max_points = kMaxPoints;
    std::tie(req.from, req.to) = zoom_range(run ? kRunSteps : kLongPoints, state.range(0));
    for (auto _ : state) {
        auto r = q.series(req);
        if (r.total != req.to - req.from + 1 || r.points.empty() || r.points.size() > kMaxPoints)
            state.SkipWithError("unexpected answer");
        benchmark::DoNotOptimize(r.points.data());
    }
}

void BM_raw(benchmark::State& state, bool run) {
    const std::string& path = run ? run_db() : long_db();
    auto [from, to] = zoom_range(run ? kRunSteps : kLongPoints, state.range(0));
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) std::abort();
    sqlite3_stmt* stmt = nullptr;
    // The append-only layout's seq range read (store/point_layout.hpp), as the agent does.
    const std::string sql = "SELECT p.seq, p.step, p.t_us, p.value FROM " +
                            agent::series_point_rows("?1", "?2", "?3") + " WHERE p.step BETWEEN ?4 AND ?5";
    sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    agent::Db lookup(path, true);
    agent::Stmt id(lookup, "SELECT id FROM series WHERE session_id=? AND rank=? AND name=?");
    id.bind(1, std::string(run ? kRunSession : kLongSession)).bind(2, run ? kRunRank : 0)
        .bind(3, run ? metric_name(kRunMetric) : std::string("train/loss"));
    if (!id.step()) std::abort();
    std::int64_t series = id.int64(0);
    for (auto _ : state) {
        agent::MinMaxBuckets buckets(from, to, kMaxPoints);
        sqlite3_bind_int64(stmt, 1, series);
        sqlite3_bind_int64(stmt, 2, run ? run_seq(from) : from + 1);
        sqlite3_bind_int64(stmt, 3, run ? run_seq(to) : to + 1);
        sqlite3_bind_int64(stmt, 4, from);
        sqlite3_bind_int64(stmt, 5, to);
        while (sqlite3_step(stmt) == SQLITE_ROW)
            buckets.add(agent::StoredPoint{sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                                           static_cast<double>(sqlite3_column_int64(stmt, 2)) / 1000.0,
                                           sqlite3_column_double(stmt, 3)});
        sqlite3_reset(stmt);
        auto points = buckets.take();
        benchmark::DoNotOptimize(points.data());
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

void BM_lod_run_all(benchmark::State& state) {
    agent::Queries q(run_db());
    for (auto _ : state) {
        std::size_t points = 0;
        for (int r = 0; r < kRanks; ++r)
            for (int m = 0; m < kMetrics; ++m) {
                agent::SeriesRequest req;
                req.session_id = kRunSession;
                req.metric = metric_name(m);
                req.rank = r;
                req.max_points = kMaxPoints;
                points += q.series(req).points.size();
            }
        benchmark::DoNotOptimize(points);
    }
}

const std::int64_t kZooms[] = {0, 10, 100, 10000};

void register_all() {
    for (bool run : {false, true}) {
        std::string db = run ? "run" : "long";
        auto* lod = benchmark::RegisterBenchmark(("BM_lod_" + db).c_str(), BM_lod, run);
        auto* raw = benchmark::RegisterBenchmark(("BM_raw_" + db).c_str(), BM_raw, run);
        for (std::int64_t z : kZooms) {
            lod->Arg(z);
            raw->Arg(z);
        }
        lod->Unit(benchmark::kMillisecond)->UseRealTime();
        // A raw read of 10 M rows takes seconds: a few iterations say enough.
        raw->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.2);
    }
    benchmark::RegisterBenchmark("BM_lod_run_all", BM_lod_run_all)->Unit(benchmark::kMillisecond)->UseRealTime();
}

/// Bytes per point: the database's pages in use, and the rollups table's share.
void bytes_per_point(const char* what, const std::string& path, std::int64_t points, const char* key) {
    agent::Db db(path, true);
    auto one = [&db](const char* sql) {
        try {
            agent::Stmt q(db, sql);
            return q.step() ? q.real(0) : -1.0;
        } catch (const agent::SqliteError&) {
            return -1.0;  // dbstat is not compiled into every SQLite
        }
    };
    double total = one("SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM "
                       "pragma_freelist_count)") * one("SELECT page_size FROM pragma_page_size");
    double rollups = one("SELECT SUM(pgsize) FROM dbstat WHERE name = 'rollups'");
    double n = static_cast<double>(points);
    std::printf("  %-44s %10.2f %14s\n", what, total / n,
                rollups >= 0 ? std::to_string(rollups / n).substr(0, 5).c_str() : "n/a");
    result((std::string(key) + "_bytes_per_point").c_str(), total / n);
    if (rollups >= 0) result((std::string(key) + "_rollup_bytes_per_point").c_str(), rollups / n);
}

void summary(const trainscope::bench::SummaryReporter& rep) {
    std::printf("\nSummary: median ms per request (max_points=%zu), rollups against a raw read of the same rows, load %s\n",
                kMaxPoints, trainscope::bench::load_average().c_str());
    std::printf("  %-44s %10s %10s %10s\n", "request", "ms", "raw ms", "x faster");
    const char* zoom_names[] = {"whole range", "zoom 10%", "zoom 1%", "zoom 0.01%"};
    const char* zoom_keys[] = {"whole", "zoom10", "zoom1", "zoom001"};
    for (bool run : {false, true}) {
        std::string db = run ? "run" : "long";
        for (std::size_t i = 0; i < std::size(kZooms); ++i) {
            std::string arg = "/" + std::to_string(kZooms[i]);
            double lod = rep.real("BM_lod_" + db + arg), raw = rep.real("BM_raw_" + db + arg);
            if (lod <= 0) continue;
            std::string what = std::string(run ? "run 8x10x1M, one series: " : "10M-point series: ") + zoom_names[i];
            if (raw > 0)
                std::printf("  %-44s %10.3f %10.3f %10.1f\n", what.c_str(), lod, raw, raw / lod);
            else  // filtered out (--benchmark_filter)
                std::printf("  %-44s %10.3f %10s %10s\n", what.c_str(), lod, "n/a", "");
            std::string key = "lod_" + db + "_" + zoom_keys[i];
            result((key + "_ms").c_str(), lod);
            if (raw > 0) result((key + "_raw_ms").c_str(), raw);
        }
    }
    double all = rep.real("BM_lod_run_all"), one_raw = rep.real("BM_raw_run/0");
    if (all > 0) {
        std::printf("  %-44s %10.3f %10s %10s\n", "run 8x10x1M, all 80 series, whole range", all,
                    one_raw > 0 ? std::to_string(80 * one_raw).substr(0, 8).c_str() : "n/a", "(80 x raw)");
        result("lod_run_all_ms", all);
    }
    double whole = rep.real("BM_lod_long/0");
    double zoom_max = 0;
    for (const char* k : {"BM_lod_long/10", "BM_lod_long/100", "BM_lod_long/10000"}) zoom_max = std::max(zoom_max, rep.real(k));
    if (whole > 0)
        std::printf("Goals: 10M series whole range <= 150 ms (aim 30): %.1f ms %s; every zoom <= 30 ms: %.1f ms %s\n",
                    whole, whole <= 150 ? "PASS" : "MISS", zoom_max, zoom_max <= 30 ? "PASS" : "MISS");
    std::printf("\n  %-44s %10s %14s\n", "disk", "bytes/pt", "of it rollups");
    bytes_per_point("10M-point series", long_db(), kLongPoints, "lod_long");
    // --benchmark_filter=long: only the 10 M-point database is written (minutes less; all
    // bench/first_chart.js needs).
    if (rep.real("BM_lod_run/0") > 0 || rep.real("BM_lod_run_all") > 0)
        bytes_per_point("run 8x10x1M", run_db(), kRanks * kMetrics * kRunSteps, "lod_run");
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    return trainscope::bench::run_main(argc, argv, {"--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"},
                                       summary);
}
