// pg_ship_bench: points per second that 1, 2, 4 and 8 node agents sustain into one PostgreSQL
// (issue 17: goal >= 150,000 points/s in total on this 2-core machine), against a baseline
// measured in the same run: one client COPYing the same rows straight into an identical table
// (binary, as the agents send them; text COPY is printed too),
// no agent in between. Printed as a ratio.
//
// Each agent gets a local store already holding a backlog (written with the agent's own
// Store), so what is measured is the shipping path alone: reading the spool, COPY, the ledger,
// run rows, the latest-value upsert and NOTIFY, one transaction per batch. The trainers' and
// the collector's costs are measured by the other benches. Every agent and the PostgreSQL
// server are real processes on this machine, started here and stopped by pid.
//
//   pg_ship_bench [--seconds S]   # S per agent count (default $PG_SHIP_SECONDS, else 60)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "store/store.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace trainscope;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kSeries = 16;           // 8 ranks x 2 metrics, like the test
double rate_guess = 320'000;  // points/s the agents' backlog must outlast; set from the baseline

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// A local store holding `points` points of one run over kSeries series, as the collector leaves it.
void fill_store(const std::string& dir, std::int64_t points) {
    agent::Store store(dir + "/trainscope.db");
    std::string session = "bench-run";
    store.register_run(session, "bench", "bench", 1, 1.7e12);
    std::vector<std::int64_t> series;
    for (int s = 0; s < kSeries; ++s)
        series.push_back(store.series_id(session, s / 2, "m" + std::to_string(s % 2)));
    agent::CommitBatch batch;
    for (std::int64_t i = 0; i < points;) {
        batch.clear();
        for (int k = 0; k < 200'000 && i < points; ++k, ++i)
            batch.points.push_back(agent::PendingPoint{series[static_cast<std::size_t>(i % kSeries)], i / kSeries,
                                                      1'700'000'000'000'000 + i, 0.001 * static_cast<double>(i)});
        store.commit(batch);
    }
}

std::int64_t shipped(agent::PgConnection& pg) {
    agent::PgResult r = pg.exec("SELECT COALESCE(sum(points), 0) FROM trainscope.ledger");
    return r.int64(0, 0);
}

/// Points/s into PostgreSQL from `agents` node agents over `seconds`.
double run_agents(test::PostgresServer& postgres, int agents, int seconds) {
    std::string db = "bench_" + std::to_string(agents);
    agent::PgConnection admin(postgres.conninfo());
    admin.exec("DROP DATABASE IF EXISTS " + db);
    admin.exec("CREATE DATABASE " + db);
    std::string conninfo = postgres.conninfo() + " dbname=" + db;
    agent::PgConnection pg(conninfo);
    agent::ensure_pg_schema(pg);

    std::int64_t per_agent = static_cast<std::int64_t>(rate_guess * (seconds + 4) / agents);
    std::vector<std::unique_ptr<test::TempDir>> dirs;
    auto fill_start = Clock::now();
    for (int a = 0; a < agents; ++a) {
        dirs.push_back(std::make_unique<test::TempDir>("tspgbench"));
        fill_store(dirs.back()->path(), per_agent);
    }
    std::printf("  %d agent(s): %lld points each in the local stores (%.1f s to write)\n", agents,
                static_cast<long long>(per_agent), seconds_since(fill_start));
    std::fflush(stdout);

    std::vector<std::unique_ptr<test::ChildProcess>> procs;
    for (int a = 0; a < agents; ++a)
        procs.push_back(std::make_unique<test::ChildProcess>(
            TS_AGENT_BIN,
            std::vector<std::string>{"--port=0", "--namespace=tspgbench-" + std::to_string(::getpid()) + "-" + std::to_string(a),
                                     "--data-dir=" + dirs[static_cast<std::size_t>(a)]->path(), "--auth=none",
                                     "--plugins-dir=", "--host-name=bench-" + std::to_string(a),
                                     "--postgres=" + conninfo}));
    // The window starts once points flow (agents started, schema found, first batches in).
    auto started = Clock::now();
    while (shipped(pg) == 0 && seconds_since(started) < 30) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::int64_t first = shipped(pg);
    auto t0 = Clock::now();
    std::int64_t last = first;
    while (seconds_since(t0) < seconds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        last = shipped(pg);
        if (last >= per_agent * agents) break;  // backlog gone: the window ends early
    }
    double elapsed = seconds_since(t0);
    double rate = static_cast<double>(last - first) / elapsed;
    bool ran_dry = last >= per_agent * agents;
    for (auto& p : procs) p->stop(std::chrono::seconds(10));
    procs.clear();
    pg.exec("SELECT 1");
    std::printf("  %d agent(s): %.0f points/s over %.1f s%s\n", agents, rate, elapsed,
                ran_dry ? " (the backlog ran out: the rate is a floor)" : "");
    std::fflush(stdout);
    admin.exec("DROP DATABASE " + db + " WITH (FORCE)");
    return rate;
}

/// The baseline: one client COPYing the same kind of rows into an identical points table, in
/// transactions of 100,000 rows, for `seconds`; binary as the agents send them, or text.
double run_raw_copy(test::PostgresServer& postgres, int seconds, bool binary) {
    agent::PgConnection admin(postgres.conninfo());
    admin.exec("DROP DATABASE IF EXISTS bench_raw");
    admin.exec("CREATE DATABASE bench_raw");
    agent::PgConnection pg(postgres.conninfo() + " dbname=bench_raw");
    agent::ensure_pg_schema(pg);
    std::int64_t rows = 0;
    auto t0 = Clock::now();
    std::string text;
    while (seconds_since(t0) < seconds) {
        agent::BinaryCopy copy;
        text.clear();
        for (int k = 0; k < 100'000; ++k, ++rows) {
            double value = 0.001 * static_cast<double>(rows);
            if (binary) {
                copy.row(5);
                copy.int64(1 + rows % kSeries);
                copy.int64(rows);
                copy.int64(rows / kSeries);
                copy.int64(1'700'000'000'000'000 + rows);
                copy.float8(value);
            } else {
                text += std::to_string(1 + rows % kSeries) + '\t' + std::to_string(rows) + '\t' +
                        std::to_string(rows / kSeries) + '\t' + std::to_string(1'700'000'000'000'000 + rows) + '\t';
                agent::append_double(text, value);
                text += '\n';
            }
        }
        pg.exec("BEGIN");
        if (binary) pg.copy_in_binary("trainscope.points (series_id, seq, step, t_us, value)", copy.finish());
        else pg.copy_in("trainscope.points (series_id, seq, step, t_us, value)", text);
        pg.exec("COMMIT");
    }
    double rate = static_cast<double>(rows) / seconds_since(t0);
    std::printf("  raw %s COPY, one client: %.0f points/s\n", binary ? "binary" : "text", rate);
    std::fflush(stdout);
    admin.exec("DROP DATABASE bench_raw WITH (FORCE)");
    return rate;
}

}  // namespace

int main(int argc, char** argv) {
    int seconds = 60;
    if (const char* env = std::getenv("PG_SHIP_SECONDS"); env && *env) seconds = std::atoi(env);
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--seconds") seconds = std::atoi(argv[++i]);
    if (seconds < 1) seconds = 1;
    try {
        test::PostgresServer postgres;
        std::printf("PostgreSQL shipping bench: %d s per agent count, %d series per agent\n", seconds, kSeries);
        // Binary and text alternate, best of two each: the machine's load drifts.
        int raw_seconds = seconds < 5 ? seconds : 5;
        double raw = 0, raw_text = 0;
        for (int round = 0; round < 2; ++round) {
            raw = std::max(raw, run_raw_copy(postgres, raw_seconds, true));
            raw_text = std::max(raw_text, run_raw_copy(postgres, raw_seconds, false));
        }
        // The agents' backlog must outlast the window: sized well above what PostgreSQL took.
        rate_guess = std::max(200'000.0, 2.5 * std::max(raw, raw_text));
        std::vector<std::pair<int, double>> results;
        for (int agents : {1, 2, 4, 8}) results.emplace_back(agents, run_agents(postgres, agents, seconds));
        std::printf("\nSummary (PostgreSQL shipping)\n");
        std::printf("%-22s %16s %12s %s\n", "node agents", "points/s", "goal", "vs one raw binary COPY client");
        for (auto [agents, rate] : results)
            std::printf("%-22d %16.0f %12s %.2fx\n", agents, rate, ">= 150000", rate / raw);
        std::printf("%-22s %16.0f\n", "raw binary COPY, 1 client", raw);
        std::printf("%-22s %16.0f\n", "raw text COPY, 1 client", raw_text);
        for (auto [agents, rate] : results) std::printf("RESULT pg_ship_%d_pps %.0f\n", agents, rate);
        std::printf("RESULT pg_raw_copy_pps %.0f\nRESULT pg_raw_text_copy_pps %.0f\n", raw, raw_text);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pg_ship_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
