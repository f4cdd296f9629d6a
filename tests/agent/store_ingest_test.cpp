// Proves, for the ingest path of Store::commit (points written series by series, not in
// arrival order, see docs/ingest.md):
// - every point of an interleaved batch over two runs is stored once, with the seq of its
//   arrival within its run, its step, time and value (NaN as NULL), and the updates handed
//   back hold each series' points in seq order; runs.last_seq is the run's newest seq;
// - a commit that rolls back gives its seqs back: the next commit numbers from where the last
//   good one ended, in both runs;
// - the append-only layout (store/point_layout.hpp): over many commits, a series' run of more
//   than 64 points in one commit, NaN, the `points` view gives every row exactly once, to
//   this library and to the sqlite3 shell; every heap row belongs to exactly one index row of
//   at most 64 rows; deleting a run removes exactly its rows and index rows, and writing goes
//   on after it;
// - a trainer logging slowly (one point per series per commit, as the collector commits every
//   few ms): its one-row index rows are rewritten into full ones as they add up, every row
//   still there once, in order, and the file stays near the size of the rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "store/queries.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::agent {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kRunA = "01INGESTA00000000000000000";
const char* const kRunB = "01INGESTB00000000000000000";

struct Row {
    std::int64_t series, seq, step, t_us;
    double value;  // NaN for NULL
};

std::vector<Row> rows(const std::string& path) {
    Db db(path, true);
    Stmt q(db, "SELECT series_id, seq, step, t_us, value FROM points ORDER BY series_id, seq");
    std::vector<Row> out;
    while (q.step())
        out.push_back(
            Row{q.int64(0), q.int64(1), q.int64(2), q.int64(3), q.is_null(4) ? kNaN : q.real(4)});
    return out;
}

std::int64_t last_seq(const std::string& path, const char* session) {
    Db db(path, true);
    Stmt q(db, "SELECT last_seq FROM runs WHERE session_id=?");
    q.bind(1, std::string(session));
    return q.step() ? q.int64(0) : -1;
}

bool same_value(double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

/// The rows Store should have written for `points` (in arrival order), numbering each run
/// from `next[run]` on.
std::vector<Row> expected_rows(const std::vector<PendingPoint>& points,
                               const std::map<std::int64_t, std::string>& run_of,
                               std::map<std::string, std::int64_t>& next) {
    std::vector<Row> out;
    for (const PendingPoint& p : points)
        out.push_back(Row{p.series_id, next[run_of.at(p.series_id)]++, p.step, p.t_us, p.value});
    std::sort(out.begin(), out.end(), [](const Row& a, const Row& b) {
        return a.series != b.series ? a.series < b.series : a.seq < b.seq;
    });
    return out;
}

void expect_rows(const std::vector<Row>& got, const std::vector<Row>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE("row " + std::to_string(i));
        EXPECT_EQ(got[i].series, want[i].series);
        EXPECT_EQ(got[i].seq, want[i].seq);
        EXPECT_EQ(got[i].step, want[i].step);
        EXPECT_EQ(got[i].t_us, want[i].t_us);
        EXPECT_TRUE(same_value(got[i].value, want[i].value))
            << got[i].value << " vs " << want[i].value;
    }
}

TEST(StoreIngest, InterleavedBatchKeepsArrivalSeqPerRun) {
    test::TempDir dir("tsingest");
    const std::string path = dir.path() + "/trainscope.db";
    Store store(path);
    store.register_run(kRunA, "a", "localhost", 1, 1.8e12);
    store.register_run(kRunB, "b", "localhost", 2, 1.8e12);
    // Series ids made in an order unlike the arrival order below.
    std::int64_t b_loss = store.series_id(kRunB, 0, "loss");
    std::int64_t a_lr = store.series_id(kRunA, 0, "lr");
    std::int64_t a_loss = store.series_id(kRunA, 0, "loss");
    std::int64_t a_loss1 = store.series_id(kRunA, 1, "loss");
    std::map<std::int64_t, std::string> run_of{
        {b_loss, kRunB}, {a_lr, kRunA}, {a_loss, kRunA}, {a_loss1, kRunA}};
    std::map<std::string, std::int64_t> next{{kRunA, 1}, {kRunB, 1}};

    CommitBatch batch;
    for (int i = 0; i < 1000; ++i) {
        std::int64_t s = i % 7 == 0 ? b_loss : i % 3 == 0 ? a_loss1 : i % 2 ? a_lr : a_loss;
        double v = i % 97 == 5 ? kNaN : 1.0 / (1 + i);
        batch.points.push_back(PendingPoint{s, 1000 - i, 1'800'000'000'000'000 + i, v});
    }
    std::vector<SeriesUpdate> updates = store.commit(batch);
    std::vector<Row> want = expected_rows(batch.points, run_of, next);
    expect_rows(rows(path), want);
    EXPECT_EQ(last_seq(path, kRunA), next[kRunA] - 1);
    EXPECT_EQ(last_seq(path, kRunB), next[kRunB] - 1);

    // What commit hands back: per series, its points in seq order, as stored.
    std::size_t handed = 0;
    for (const SeriesUpdate& u : updates) {
        std::int64_t id = store.series_id(u.session_id, u.rank, u.metric);
        std::vector<Row> of_series;
        for (const Row& r : want)
            if (r.series == id) of_series.push_back(r);
        ASSERT_EQ(u.points.size(), of_series.size()) << u.metric;
        for (std::size_t i = 0; i < u.points.size(); ++i) {
            EXPECT_EQ(u.points[i].seq, of_series[i].seq);
            EXPECT_EQ(u.points[i].step, of_series[i].step);
            EXPECT_DOUBLE_EQ(u.points[i].t_ms, static_cast<double>(of_series[i].t_us) / 1000.0);
            EXPECT_TRUE(same_value(u.points[i].value, of_series[i].value));
        }
        handed += u.points.size();
    }
    EXPECT_EQ(handed, batch.points.size());
}

TEST(StoreIngest, RolledBackCommitGivesItsSeqsBack) {
    test::TempDir dir("tsingest");
    const std::string path = dir.path() + "/trainscope.db";
    Store store(path);
    store.register_run(kRunA, "a", "localhost", 1, 1.8e12);
    store.register_run(kRunB, "b", "localhost", 2, 1.8e12);
    std::int64_t a = store.series_id(kRunA, 0, "loss");
    std::int64_t b = store.series_id(kRunB, 0, "loss");
    std::map<std::int64_t, std::string> run_of{{a, kRunA}, {b, kRunB}};
    std::map<std::string, std::int64_t> next{{kRunA, 1}, {kRunB, 1}};

    CommitBatch batch;
    batch.points = {{a, 1, 10, 1.0}, {b, 1, 10, 2.0}, {a, 2, 20, 3.0}};
    store.commit(batch);
    std::vector<Row> want = expected_rows(batch.points, run_of, next);

    {  // A trigger makes the event insert, after the points, abort the transaction.
        Db db(path);
        db.exec(
            "CREATE TRIGGER fail_event BEFORE INSERT ON events WHEN NEW.kind = 'fail' "
            "BEGIN SELECT RAISE(ABORT, 'test failure'); END");
    }
    batch.points = {{b, 2, 30, 4.0}, {a, 3, 30, 5.0}, {b, 3, 40, 6.0}};
    batch.events = {StoredEvent{kRunA, 0, 1.8e12, "fail", "rolled back"}};
    EXPECT_THROW(store.commit(batch), SqliteError);
    expect_rows(rows(path), want);

    batch.events.clear();
    store.commit(batch);
    for (const Row& r : expected_rows(batch.points, run_of, next)) want.push_back(r);
    std::sort(want.begin(), want.end(), [](const Row& x, const Row& y) {
        return x.series != y.series ? x.series < y.series : x.seq < y.seq;
    });
    expect_rows(rows(path), want);
    EXPECT_EQ(last_seq(path, kRunA), 3);
    EXPECT_EQ(last_seq(path, kRunB), 3);
}

std::int64_t scalar(const std::string& path, const std::string& sql) {
    Db db(path, true);
    Stmt q(db, sql.c_str());
    return q.step() ? q.int64(0) : -1;
}

/// Lines printed by the sqlite3 shell for `sql` on the file (read-only), "" if it cannot run.
std::vector<std::string> shell_lines(const std::string& path, const std::string& sql) {
    std::string cmd = "sqlite3 -readonly '" + path + "' '" + sql + "' 2>&1";
    std::unique_ptr<FILE, int (*)(FILE*)> out(::popen(cmd.c_str(), "r"), ::pclose);
    std::vector<std::string> lines;
    if (!out) return lines;
    char buf[512];
    while (std::fgets(buf, sizeof buf, out.get())) {
        std::string line(buf);
        if (!line.empty() && line.back() == '\n') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

TEST(StoreIngest, PointsViewGivesEveryRowAndDeletionTakesExactlyARunsRows) {
    test::TempDir dir("tsingest");
    const std::string path = dir.path() + "/trainscope.db";
    Store store(path);
    store.register_run(kRunA, "a", "localhost", 1, 1.8e12);
    store.register_run(kRunB, "b", "localhost", 2, 1.8e12);
    std::int64_t a_loss = store.series_id(kRunA, 0, "loss");
    std::int64_t b_loss = store.series_id(kRunB, 0, "loss");
    std::int64_t a_lr = store.series_id(kRunA, 0, "lr");
    std::map<std::int64_t, std::string> run_of{{a_loss, kRunA}, {b_loss, kRunB}, {a_lr, kRunA}};
    std::map<std::string, std::int64_t> next{{kRunA, 1}, {kRunB, 1}};
    std::vector<Row> want;
    auto commit = [&](const std::vector<PendingPoint>& points) {
        CommitBatch batch;
        batch.points = points;
        store.commit(batch);
        for (const Row& r : expected_rows(points, run_of, next)) want.push_back(r);
        std::sort(want.begin(), want.end(), [](const Row& x, const Row& y) {
            return x.series != y.series ? x.series < y.series : x.seq < y.seq;
        });
    };
    std::int64_t step = 0;
    for (int c = 0; c < 6; ++c) {
        // Commit 2 holds 700 points of a_loss (eleven index rows); the others a few of each.
        std::vector<PendingPoint> points;
        int n = c == 2 ? 900 : 5 + c;
        for (int i = 0; i < n; ++i, ++step) {
            std::int64_t s = c == 2 ? (i < 700 ? a_loss : i % 2 ? b_loss : a_lr) : i % 3 == 0 ? b_loss : i % 3 == 1 ? a_loss : a_lr;
            points.push_back(PendingPoint{s, step, 1'800'000'000'000'000 + step, step % 13 == 4 ? kNaN : 0.25 * static_cast<double>(step)});
        }
        commit(points);
    }
    expect_rows(rows(path), want);
    // The layout under the view: every heap row in exactly one index row, none over 64 rows.
    EXPECT_EQ(scalar(path, "SELECT COUNT(*) FROM point_rows"), static_cast<std::int64_t>(want.size()));
    EXPECT_EQ(scalar(path,
                     "SELECT COUNT(*) FROM point_rows p WHERE (SELECT COUNT(*) FROM point_chunks c "
                     "WHERE p.rowid BETWEEN c.first_row AND c.last_row) != 1"),
              0);
    EXPECT_EQ(scalar(path, "SELECT MAX(last_row - first_row + 1) FROM point_chunks"), 64);

    // The sqlite3 shell reads the same rows (series_id|seq|step|t_us|value).
    std::vector<std::string> lines = shell_lines(
        path, "SELECT series_id, seq, step, t_us FROM points WHERE series_id = " + std::to_string(a_loss) +
                  " ORDER BY seq");
    std::vector<std::string> expected;
    for (const Row& r : want)
        if (r.series == a_loss)
            expected.push_back(std::to_string(r.series) + "|" + std::to_string(r.seq) + "|" +
                               std::to_string(r.step) + "|" + std::to_string(r.t_us));
    EXPECT_EQ(lines, expected);

    ASSERT_TRUE(store.delete_run(kRunA));
    std::vector<Row> kept;
    for (const Row& r : want)
        if (r.series == b_loss) kept.push_back(r);
    want = kept;
    expect_rows(rows(path), want);
    EXPECT_EQ(scalar(path, "SELECT COUNT(*) FROM point_rows"), static_cast<std::int64_t>(want.size()));
    EXPECT_EQ(scalar(path, "SELECT COUNT(*) FROM point_chunks WHERE series_id != " + std::to_string(b_loss)), 0);

    // Writing goes on: rowids freed at the heap's end are taken again, under new index rows.
    run_of.erase(a_loss);
    run_of.erase(a_lr);
    std::vector<PendingPoint> more;
    for (int i = 0; i < 300; ++i, ++step) more.push_back(PendingPoint{b_loss, step, 1'800'000'000'000'000 + step, 1.0});
    commit(more);
    expect_rows(rows(path), want);
    EXPECT_EQ(scalar(path, "SELECT COUNT(*) FROM point_rows"), static_cast<std::int64_t>(want.size()));
}

TEST(StoreIngest, SlowLoggingIsCompactedIntoFullIndexRows) {
    test::TempDir dir("tsingest");
    const std::string path = dir.path() + "/trainscope.db";
    Store store(path);
    store.register_run(kRunA, "a", "localhost", 1, 1.8e12);
    std::vector<std::int64_t> ids;
    std::map<std::int64_t, std::string> run_of;
    for (const char* name : {"loss", "lr", "grad_norm"}) {
        ids.push_back(store.series_id(kRunA, 0, name));
        run_of[ids.back()] = kRunA;
    }
    std::map<std::string, std::int64_t> next{{kRunA, 1}};
    std::vector<Row> want;
    CommitBatch batch;
    constexpr int kCommits = 1000;
    for (int c = 0; c < kCommits; ++c) {
        batch.points.clear();
        // One point per series, a second one for loss now and then.
        for (std::int64_t id : ids) batch.points.push_back(PendingPoint{id, c, 1'800'000'000'000'000 + c, c % 17 == 3 ? kNaN : 0.5 * c});
        if (c % 7 == 0) batch.points.push_back(PendingPoint{ids[0], c, 1'800'000'000'000'001 + c, 1.0});
        store.commit(batch);
        for (const Row& r : expected_rows(batch.points, run_of, next)) want.push_back(r);
    }
    std::sort(want.begin(), want.end(), [](const Row& x, const Row& y) {
        return x.series != y.series ? x.series < y.series : x.seq < y.seq;
    });
    expect_rows(rows(path), want);
    EXPECT_EQ(scalar(path, "SELECT COUNT(*) FROM point_rows"), static_cast<std::int64_t>(want.size()));
    EXPECT_EQ(scalar(path,
                     "SELECT COUNT(*) FROM point_rows p WHERE (SELECT COUNT(*) FROM point_chunks c "
                     "WHERE p.rowid BETWEEN c.first_row AND c.last_row) != 1"),
              0);
    // Full index rows but for fewer than 64 points at each series' end (not one per commit).
    std::int64_t chunks = scalar(path, "SELECT COUNT(*) FROM point_chunks");
    EXPECT_LE(chunks, static_cast<std::int64_t>(want.size()) / 64 + 3 * 64) << chunks;
    // The answers by seq range read the compacted rows in order.
    Queries q(path);
    std::vector<SeriesUpdate> since = q.points_since(kRunA, 100, 2000);
    std::size_t n = 0;
    for (const SeriesUpdate& u : since) {
        for (std::size_t i = 1; i < u.points.size(); ++i) EXPECT_LT(u.points[i - 1].seq, u.points[i].seq);
        n += u.points.size();
    }
    EXPECT_EQ(n, static_cast<std::size_t>(std::count_if(want.begin(), want.end(), [](const Row& r) {
                  return r.seq > 100 && r.seq <= 2000;
              })));
}

}  // namespace
}  // namespace trainscope::agent
