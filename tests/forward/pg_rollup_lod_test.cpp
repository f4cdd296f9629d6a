// Proves: the hub answers every series request exactly as the node that shipped the series
// does (found, rank, total, downsampled and every point), for random series (steps in order,
// repeated, shuffled, late, negative, sparse, NaN and ±Inf, spikes, ties) on two ranks,
// committed to a node's store in random interleaved commits while the real Shipper ships them
// in small batches (so buckets are merged across batches, late points land in buckets
// shipped long before), asked for random ranges and budgets. PostgreSQL's rollup rows equal
// the node's row for row (so the merge in SQL is EnvelopeBucket::merge), the hub's answer is
// read from them (a corrupted row shows), `?last=1` comes from trainscope.latest, and a
// version-1 database gets the same rollups built from its points when an agent upgrades it.
#include <gtest/gtest.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "forward/shipper.hpp"
#include "hub/pg_pool.hpp"
#include "hub/pg_reader.hpp"
#include "store/queries.hpp"
#include "store/runs_table.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "support/postgres_server.hpp"
#include "support/random_series.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using namespace agent;

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
const char* const kSession = "01PGROLLUPTEST00000000000A";
using Series = RandomSeries;

std::int64_t t_us(std::int64_t step) { return 1'800'000'000'000'000 + step * 1000 + 7; }

/// The points of `series` on ranks 0 and 1 (rank 1 a little different), committed to the store
/// in random interleaved commits; `between` runs after each commit.
std::int64_t write_series(Store& store, std::mt19937& gen, const Series& series, const std::function<void()>& between) {
    std::map<std::pair<int, std::string>, std::int64_t> ids;
    std::map<std::pair<int, std::string>, std::size_t> next;
    for (int rank : {0, 1})
        for (const auto& [name, pts] : series) {
            ids[{rank, name}] = store.series_id(kSession, rank, name);
            next[{rank, name}] = 0;
        }
    std::int64_t written = 0;
    CommitBatch batch;
    for (bool more = true; more;) {
        more = false;
        batch.clear();
        for (auto& [key, i] : next) {
            const auto& pts = series.at(key.second);
            std::size_t take = std::min<std::size_t>(pts.size() - i, gen() % 2500 + 1);
            for (std::size_t end = i + take; i < end; ++i) {
                double value = key.first == 0 ? pts[i].second : pts[i].second * 1.5;
                batch.points.push_back(PendingPoint{ids[key], pts[i].first, t_us(pts[i].first), value});
            }
            more = more || i < pts.size();
        }
        written += static_cast<std::int64_t>(batch.points.size());
        store.commit(batch);
        between();
    }
    return written;
}

bool same_point(const StoredPoint& a, const StoredPoint& b) {
    bool same_value = a.value == b.value || (std::isnan(a.value) && std::isnan(b.value));
    return a.seq == b.seq && a.step == b.step && a.t_ms == b.t_ms && same_value;
}

SeriesResult collect(RunReader& reader, const SeriesRequest& req) {
    SeriesResult out;
    SeriesResult figures = reader.series(req, [](const SeriesResult&) {}, [&out](const StoredPoint& p) {
        out.points.push_back(p);
    });
    figures.points = std::move(out.points);
    return figures;
}

::testing::AssertionResult same_answer(const SeriesResult& hub, const SeriesResult& node) {
    if (hub.found != node.found || hub.rank != node.rank || hub.total != node.total ||
        hub.downsampled != node.downsampled)
        return ::testing::AssertionFailure()
               << "found/rank/total/downsampled " << hub.found << "/" << hub.rank << "/" << hub.total << "/"
               << hub.downsampled << ", the node's " << node.found << "/" << node.rank << "/" << node.total << "/"
               << node.downsampled;
    if (hub.points.size() != node.points.size())
        return ::testing::AssertionFailure() << hub.points.size() << " points, the node's " << node.points.size();
    for (std::size_t i = 0; i < hub.points.size(); ++i)
        if (!same_point(hub.points[i], node.points[i]))
            return ::testing::AssertionFailure()
                   << "point " << i << ": seq " << hub.points[i].seq << " step " << hub.points[i].step << " value "
                   << hub.points[i].value << ", the node's seq " << node.points[i].seq << " step "
                   << node.points[i].step << " value " << node.points[i].value;
    return ::testing::AssertionSuccess();
}

/// One rollup row as both stores have it: everything but the sum, which is compared apart
/// (floating-point sums in another order may differ in the last bits).
using RollupRow = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                             std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
constexpr const char* kRowColumns =
    "count, nonfinite, seq_lo, seq_hi, first_seq, last_seq, COALESCE(min_seq, -1), COALESCE(max_seq, -1), "
    "COALESCE(nf_seq, -1), level, sum, bucket";

/// (rank, name, level, bucket) -> row and sum, from the node's SQLite.
std::map<std::tuple<int, std::string, std::int64_t, std::int64_t>, std::pair<RollupRow, double>> node_rollups(
    const std::string& path) {
    Db db(path, true);
    Stmt q(db, (std::string("SELECT s.rank, s.name, ") + kRowColumns +
                " FROM rollups r JOIN series s ON s.id = r.series_id").c_str());
    std::map<std::tuple<int, std::string, std::int64_t, std::int64_t>, std::pair<RollupRow, double>> out;
    while (q.step()) {
        RollupRow row{q.int64(2), q.int64(3), q.int64(4), q.int64(5), q.int64(6),
                      q.int64(7), q.int64(8), q.int64(9), q.int64(10), q.int64(11)};
        out[{static_cast<int>(q.int64(0)), std::string(q.text(1)), q.int64(11), q.int64(13)}] = {row, q.real(12)};
    }
    return out;
}

std::map<std::tuple<int, std::string, std::int64_t, std::int64_t>, std::pair<RollupRow, double>> hub_rollups(
    PgConnection& pg) {
    PgResult r = pg.exec(std::string("SELECT s.rank, s.name, ") + kRowColumns +
                         " FROM trainscope.rollups r JOIN trainscope.series s ON s.id = r.series_id");
    std::map<std::tuple<int, std::string, std::int64_t, std::int64_t>, std::pair<RollupRow, double>> out;
    for (int i = 0; i < r.rows(); ++i) {
        RollupRow row{r.int64(i, 2), r.int64(i, 3), r.int64(i, 4), r.int64(i, 5), r.int64(i, 6),
                      r.int64(i, 7), r.int64(i, 8), r.int64(i, 9), r.int64(i, 10), r.int64(i, 11)};
        out[{static_cast<int>(r.int64(i, 0)), r.text(i, 1), r.int64(i, 11), r.int64(i, 13)}] = {
            row, std::stod(r.text(i, 12))};
    }
    return out;
}

::testing::AssertionResult same_rollups(const std::string& path, PgConnection& pg) {
    auto node = node_rollups(path), hub = hub_rollups(pg);
    if (node.empty()) return ::testing::AssertionFailure() << "the node has no rollups";
    if (node.size() != hub.size())
        return ::testing::AssertionFailure() << "PostgreSQL has " << hub.size() << " rollup rows, the node "
                                             << node.size();
    for (const auto& [key, row] : node) {
        auto it = hub.find(key);
        std::ostringstream where;
        where << "rank " << std::get<0>(key) << " " << std::get<1>(key) << " level " << std::get<2>(key)
              << " bucket " << std::get<3>(key);
        if (it == hub.end()) return ::testing::AssertionFailure() << where.str() << ": missing on PostgreSQL";
        if (it->second.first != row.first) return ::testing::AssertionFailure() << where.str() << ": differs";
        double a = it->second.second, b = row.second;
        if (std::abs(a - b) > 1e-9 * (1 + std::abs(b)))
            return ::testing::AssertionFailure() << where.str() << ": sum " << a << ", the node's " << b;
    }
    return ::testing::AssertionSuccess();
}

SeriesRequest request(const std::string& metric, int rank, std::int64_t from, std::int64_t to, std::size_t max_points) {
    SeriesRequest req;
    req.session_id = kSession;
    req.metric = metric;
    req.rank = rank;
    req.from = from;
    req.to = to;
    req.max_points = max_points;
    return req;
}

/// Random requests on every series of both ranks (and of "the lowest rank"): the hub answers
/// as the node does. Returns how many answers were downsampled (the test wants many).
int expect_same_answers(const std::string& path, const std::string& conninfo, const Series& series,
                        std::mt19937& gen, int requests) {
    Queries node(path);
    PgPool pool(conninfo);
    PgReader hub(pool);
    const std::size_t budgets[] = {1, 2, 3, 4, 5, 6, 9, 10, 50, 100, 1000, 5000};
    int downsampled = 0;
    for (const auto& [name, pts] : series) {
        std::int64_t lo = kMax, hi = kMin;
        for (const auto& [step, value] : pts) {
            lo = std::min(lo, step);
            hi = std::max(hi, step);
        }
        std::uniform_int_distribution<std::int64_t> step(lo - 300, hi + 300);
        for (int i = 0; i < requests; ++i) {
            std::int64_t a = step(gen), b = step(gen);
            if (a > b) std::swap(a, b);
            if (i % 10 == 0) a = kMin;
            if (i % 7 == 0) b = kMax;
            if (i % 5 == 0) b = a + static_cast<std::int64_t>(gen() % 2000);  // a zoom
            std::size_t max_points = i % 3 == 0 ? gen() % 3000 + 1 : budgets[gen() % std::size(budgets)];
            SeriesRequest req = request(name, static_cast<int>(i % 3) - 1, a, b, max_points);
            SeriesResult want = collect(node, req);
            downsampled += want.downsampled ? 1 : 0;
            EXPECT_TRUE(same_answer(collect(hub, req), want))
                << name << " rank " << req.rank << " " << a << ".." << b << " max_points " << max_points;
        }
        for (int rank : {-1, 0, 1}) {
            SeriesRequest last = request(name, rank, kMin, kMax, 2000);
            last.last_only = true;
            EXPECT_TRUE(same_answer(collect(hub, last), collect(node, last))) << name << " ?last=1 rank " << rank;
        }
    }
    SeriesRequest none = request("no/such/metric", -1, kMin, kMax, 100);
    EXPECT_FALSE(collect(hub, none).found);
    return downsampled;
}

class PgRollupLod : public ::testing::Test {
protected:
    /// A node's store written while the real Shipper ships it in batches of `batch_points`.
    void ship_random_series(int n, std::int64_t batch_points, std::int64_t min_batches) {
        std::mt19937 gen(20261205);
        series_ = random_series(gen, n);
        Store store(path_);
        store.register_run(kSession, "lod", "node-a", 1, 1.8e12);
        ShipperOptions options{postgres_.conninfo(), path_, "0123456789abcdef0123456789abcdef", "node-a",
                               std::chrono::milliseconds(20), batch_points};
        Shipper shipper(options, Poco::Logger::get("pg_rollup_lod_test"));
        shipper.start();
        int commits = 0;
        // Now and then the shipper catches up between commits: batches then end mid-bucket and
        // the next commit's points merge into rows already on PostgreSQL.
        std::int64_t written = write_series(store, gen, series_, [&] {
            if (++commits % 4 == 0)
                wait_until([&] { return shipper.snapshot().waiting_points == 0 && shipper.shipped_points() > 0; }, 10s);
        });
        ASSERT_TRUE(wait_until([&] { return static_cast<std::int64_t>(shipper.shipped_points()) == written; }, 120s))
            << shipper.shipped_points() << " of " << written << " points shipped";
        shipper.stop();
        PgConnection pg(postgres_.conninfo());
        ASSERT_GE(pg.exec("SELECT count(*) FROM trainscope.ledger").int64(0, 0), min_batches) << "want many small batches";
    }

    PostgresServer postgres_;
    TempDir dir_{"tspgrollup"};
    std::string path_ = dir_.path() + "/trainscope.db";
    Series series_;
};

TEST_F(PgRollupLod, HubAnswersEqualTheNodesAcrossBatches) {
    ASSERT_NO_FATAL_FAILURE(ship_random_series(12000, 1777, 20));
    PgConnection pg(postgres_.conninfo());
    EXPECT_TRUE(same_rollups(path_, pg));
    std::mt19937 gen(5);
    EXPECT_GT(expect_same_answers(path_, postgres_.conninfo(), series_, gen, 120), 200);

    // The runs table's figures from latest and the coarsest rollups equal the node's (which
    // reads its points): best is the best finite value on both.
    {
        std::vector<std::string> names;
        for (const auto& [name, pts] : series_) names.push_back(name);
        Queries node(path_);
        RunsTable table = read_runs_table(node.db(), Queries::RunFilter{}, names);
        ASSERT_EQ(table.rows.size(), 1u);
        names.push_back("no/such/metric");
        PgPool pool(postgres_.conninfo());
        std::vector<std::vector<MetricFigures>> figures =
            PgReader(pool).series_figures({kSession, "no-such-run"}, names);
        ASSERT_EQ(figures.size(), 2u);
        for (std::size_t j = 0; j + 1 < names.size(); ++j) {
            const MetricFigures &hub = figures[0][j], &want = table.rows[0].figures[j];
            EXPECT_TRUE(hub.found) << names[j];
            bool same_latest = hub.latest == want.latest || (std::isnan(hub.latest) && std::isnan(want.latest));
            EXPECT_TRUE(same_latest) << names[j] << " latest " << hub.latest << ", the node's " << want.latest;
            EXPECT_EQ(hub.latest_step, want.latest_step) << names[j];
            EXPECT_EQ(hub.points, want.points) << names[j];
            bool same_best = hub.best == want.best || (std::isnan(hub.best) && std::isnan(want.best));
            EXPECT_TRUE(same_best) << names[j] << " best " << hub.best << ", the node's " << want.best;
        }
        EXPECT_FALSE(figures[0].back().found);
        for (const MetricFigures& f : figures[1]) EXPECT_FALSE(f.found);
    }

    // The hub's answer is read from the rollups: a corrupted level-12 max shows in a coarse view.
    pg.exec("UPDATE trainscope.rollups SET max_value = 1e300 WHERE level = 12 AND series_id = "
            "(SELECT id FROM trainscope.series WHERE name = 'ordered' AND rank = 0)");
    PgPool pool(postgres_.conninfo());
    PgReader hub(pool);
    SeriesResult coarse = collect(hub, request("ordered", 0, kMin, kMax, 10));
    ASSERT_TRUE(coarse.downsampled);
    EXPECT_TRUE(std::any_of(coarse.points.begin(), coarse.points.end(),
                            [](const StoredPoint& p) { return p.value == 1e300; }));
    // ... and ?last=1 from trainscope.latest: a changed row there is what the hub answers.
    pg.exec("UPDATE trainscope.latest SET value = 42 WHERE series_id = "
            "(SELECT id FROM trainscope.series WHERE name = 'ordered' AND rank = 0)");
    SeriesRequest last = request("ordered", 0, kMin, kMax, 1);
    last.last_only = true;
    SeriesResult newest = collect(hub, last);
    ASSERT_EQ(newest.points.size(), 1u);
    EXPECT_EQ(newest.points[0].value, 42);
}

TEST_F(PgRollupLod, AVersion1DatabaseGetsItsRollupsBuiltOnUpgrade) {
    ASSERT_NO_FATAL_FAILURE(ship_random_series(4000, 20'000, 2));
    PgConnection pg(postgres_.conninfo());
    // What an agent before rollups left: version 1, the first block's tables only.
    pg.exec("DROP TABLE trainscope.rollups, trainscope.run_meta, trainscope.deleted_runs, trainscope.run_seq_map; "
            "DROP FUNCTION trainscope.number_shipped_range() CASCADE; "
            "DROP FUNCTION trainscope.refuse_deleted_run() CASCADE; DROP INDEX trainscope.runs_by_start; "
            "UPDATE trainscope.schema_version SET version = 1");
    ensure_pg_schema(pg);
    EXPECT_EQ(pg.exec("SELECT version FROM trainscope.schema_version").int64(0, 0), kPgSchemaVersion);
    EXPECT_TRUE(same_rollups(path_, pg));
    std::mt19937 gen(6);
    EXPECT_GT(expect_same_answers(path_, postgres_.conninfo(), series_, gen, 40), 50);
    // Upgraded once: a second agent's check builds nothing more.
    ensure_pg_schema(pg);
    EXPECT_TRUE(same_rollups(path_, pg));

    // A database at the current version written by an agent whose schema had no rollups
    // block (the blocks came from parallel branches): built too.
    pg.exec("DROP TABLE trainscope.rollups; DROP INDEX trainscope.runs_by_start");
    ensure_pg_schema(pg);
    EXPECT_TRUE(same_rollups(path_, pg));
}

}  // namespace
}  // namespace trainscope::test
