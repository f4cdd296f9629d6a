// runs_bench — how fast the agent answers GET /api/runs with 10,000 runs in the database:
// the first page (what the run list asks for), a page deep into the list (a cursor), and a
// name search, against a raw sqlite3 read of the same 50 run rows.
//
// One database, written once through the agent's Store: 10,000 ended runs, each with two
// series (train/loss and val/loss at two ranks) of 10 points and a producer row.
//   BM_runs_first_page   Queries::run_page, limit 50: the run objects the page shows first.
//   BM_runs_deep_page    the same, from a cursor 9,000 runs in.
//   BM_runs_search       limit 50, q= a name fragment 1 run in 100 matches.
//   BM_runs_raw_floor    the baseline: raw sqlite3, the 50 newest rows of `runs` by the index,
//                        each column read, no series or drop counts looked up.
//   BM_runs_table        read_runs_table (GET /api/runs/table): all 10,000 rows with config,
//                        ranks, and latest and best val/loss (a 10-point series per run).
//   BM_runs_table_floor  its baseline: raw sqlite3, every `runs` row with its config column.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench_util.hpp"
#include "store/queries.hpp"
#include "store/runs_table.hpp"
#include "store/store.hpp"

namespace {

using trainscope::bench::result;
namespace agent = trainscope::agent;

constexpr int kRuns = 10'000;
constexpr int kPage = 50;

class Fixture {
public:
    Fixture() {
        char tmpl[] = "/tmp/tsbench-runs-XXXXXX";
        if (!::mkdtemp(tmpl)) {
            std::perror("mkdtemp");
            std::exit(1);
        }
        dir_ = tmpl;
        path_ = dir_ + "/trainscope.db";
        agent::Store store(path_);
        agent::CommitBatch batch;
        for (int i = 0; i < kRuns; ++i) {
            char id[32], name[48];
            std::snprintf(id, sizeof id, "01BENCHRUN%016d", i);
            std::snprintf(name, sizeof name, "%s-lr%d-run%05d", i % 100 == 7 ? "sweep-needle" : "gpt-small", i % 9, i);
            double started = 1.8e12 + i * 60'000.0;
            store.register_run(id, name, "bench-host", 1000 + i, started);
            agent::ProducerKey key{std::string("seg.") + id, 1000 + i, i};
            store.producer_consumed(key, id, 0, 1);
            for (int rank = 0; rank < 2; ++rank)
                for (const char* metric : {"train/loss", "val/loss"}) {
                    std::int64_t series = store.series_id(id, rank, metric);
                    for (int p = 0; p < 10; ++p)
                        batch.points.push_back(agent::PendingPoint{series, p, static_cast<std::int64_t>(started * 1000) + p, 1.0 / (p + 1)});
                }
            char config[128];
            std::snprintf(config, sizeof config, R"({"optim":{"lr":%g},"model":{"layers":%d},"seed":%d})",
                          0.001 * (1 + i % 9), 2 + i % 6, i);
            batch.runs.push_back(agent::RunUpdate{id, "finished", config, "", started + 30'000});
            if (batch.points.size() >= 40'000) {
                store.commit(batch);
                batch.clear();
            }
        }
        store.commit(batch);
        // The cursor of run 9,000 from the top: what a page deep into the list starts after.
        agent::Queries q(path_);
        agent::Queries::RunFilter f;
        f.limit = kRuns - 1'000;
        auto page = q.run_page(f);
        deep_ = {page.runs.back().started_ms, page.runs.back().session_id};
    }
    ~Fixture() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    const std::string& path() const { return path_; }
    const std::pair<double, std::string>& deep() const { return deep_; }

private:
    std::string dir_, path_;
    std::pair<double, std::string> deep_;
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void page(benchmark::State& state, agent::Queries::RunFilter filter) {
    agent::Queries q(fixture().path());
    for (auto _ : state) {
        auto p = q.run_page(filter);
        if (p.runs.empty()) state.SkipWithError("no runs");
        benchmark::DoNotOptimize(p.runs.data());
    }
}

void BM_runs_first_page(benchmark::State& state) { page(state, {"", "", std::nullopt, kPage}); }
void BM_runs_deep_page(benchmark::State& state) { page(state, {"", "", fixture().deep(), kPage}); }
void BM_runs_search(benchmark::State& state) { page(state, {"needle", "", std::nullopt, kPage}); }

void BM_runs_raw_floor(benchmark::State& state) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(fixture().path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT session_id, name, status, host, pid, started_ms, ended_ms, last_ms, last_seq "
                       "FROM runs ORDER BY started_ms DESC LIMIT 50",
                       -1, &stmt, nullptr);
    for (auto _ : state) {
        int rows = 0;
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            for (int c = 0; c < 9; ++c) benchmark::DoNotOptimize(sqlite3_column_text(stmt, c));
            ++rows;
        }
        sqlite3_reset(stmt);
        if (rows != kPage) state.SkipWithError("short page");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

void BM_runs_table(benchmark::State& state) {
    agent::Queries q(fixture().path());
    agent::Queries::RunFilter filter;
    filter.limit = kRuns;
    for (auto _ : state) {
        auto t = agent::read_runs_table(q.db(), filter, {"val/loss"});
        if (t.rows.size() != static_cast<std::size_t>(kRuns) || !t.rows[0].figures[0].found)
            state.SkipWithError("short table");
        benchmark::DoNotOptimize(t.rows.data());
    }
}

void BM_runs_table_floor(benchmark::State& state) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(fixture().path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT session_id, name, status, host, pid, started_ms, ended_ms, last_ms, last_seq, config "
                       "FROM runs ORDER BY started_ms DESC",
                       -1, &stmt, nullptr);
    for (auto _ : state) {
        int rows = 0;
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            for (int c = 0; c < 10; ++c) benchmark::DoNotOptimize(sqlite3_column_text(stmt, c));
            ++rows;
        }
        sqlite3_reset(stmt);
        if (rows != kRuns) state.SkipWithError("short read");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

void summary(const trainscope::bench::SummaryReporter& rep) {
    double first = rep.real("BM_runs_first_page"), deep = rep.real("BM_runs_deep_page");
    double search = rep.real("BM_runs_search"), floor = rep.real("BM_runs_raw_floor");
    std::printf("\nSummary: median ms per GET /api/runs page of %d, %d runs stored, load %s\n", kPage, kRuns,
                trainscope::bench::load_average().c_str());
    std::printf("  %-44s %10s %14s\n", "query", "ms", "x raw rows");
    auto row = [&](const char* what, double ms) {
        if (ms > 0) std::printf("  %-44s %10.3f %14.1f\n", what, ms, floor > 0 ? ms / floor : 0.0);
    };
    row("first page (the run list)", first);
    row("page from a cursor 9,000 runs in", deep);
    row("name search, 1 run in 100 matches", search);
    row("raw sqlite3: 50 newest rows (floor)", floor);
    std::printf("Goal: every page <= 50 ms with %d runs: %s\n", kRuns,
                first > 0 && first <= 50 && deep <= 50 && search <= 50 ? "PASS" : "MISS");
    if (first > 0) result("runs_first_page_ms", first);
    if (deep > 0) result("runs_deep_page_ms", deep);
    if (search > 0) result("runs_search_ms", search);
    if (floor > 0) result("runs_raw_floor_ms", floor);
    double table = rep.real("BM_runs_table"), table_floor = rep.real("BM_runs_table_floor");
    if (table > 0) {
        std::printf("\nRuns table (GET /api/runs/table, store side): %d rows with config and latest/best "
                    "val/loss: %.2f ms, %.1fx a raw read of every runs row with its config (%.2f ms)\n",
                    kRuns, table, table_floor > 0 ? table / table_floor : 0.0, table_floor);
        result("runs_table_ms", table);
        result("runs_table_floor_ms", table_floor);
    }
}

}  // namespace

int main(int argc, char** argv) {
    for (auto [name, fn] : {std::pair{"BM_runs_first_page", BM_runs_first_page},
                            std::pair{"BM_runs_deep_page", BM_runs_deep_page},
                            std::pair{"BM_runs_search", BM_runs_search},
                            std::pair{"BM_runs_raw_floor", BM_runs_raw_floor},
                            std::pair{"BM_runs_table", BM_runs_table},
                            std::pair{"BM_runs_table_floor", BM_runs_table_floor}})
        benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMillisecond)->UseRealTime();
    return trainscope::bench::run_main(argc, argv, {"--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true"},
                                       summary);
}
