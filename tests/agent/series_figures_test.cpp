// Proves: the `series` table's points/min_step/max_step (kept so that a whole-series read is
// one pass) equal COUNT/MIN/MAX over each series' points after interleaved commits with steps
// out of order, a repeated step and a NaN, and stay so when a commit rolls back; a database
// made by an earlier agent (no such columns) gets them, filled from its points, when a Store
// opens it, once, and a run an older agent wrote to since is refilled; and Queries::series answers a request covering the whole series from them
// without a COUNT pass (a narrower one still counts), with the same points and total as
// MinMaxBuckets fed by a raw scan of the rows.
// Also: steps_ordered (1 while no point's step is below the one before it in seq order) follows
// commits (a batch out of order inside, or starting below the stored max_step, turns it off for
// good; a rolled-back commit leaves it), is backfilled and refilled for older databases; and a
// narrower range on an ordered series reads only the range's rows (counted in VM steps), with
// the raw scan's answer; unordered series read the seq span their rollup buckets give (and a
// downsampled answer reads the rollup levels).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "store/downsample.hpp"
#include "store/queries.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::agent {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kSession = "01SERIESSTATS0000000000000";
constexpr std::int64_t kNull = std::numeric_limits<std::int64_t>::min();  // a NULL column

std::int64_t t_us(std::int64_t step) {
    return 1'800'000'000'000'000 + step * 1000;
}

/// A series' points, min_step and max_step (NULL read as kNull).
struct Figures {
    std::int64_t points, min_step, max_step;
    bool operator==(const Figures& o) const {
        return points == o.points && min_step == o.min_step && max_step == o.max_step;
    }
};

std::ostream& operator<<(std::ostream& os, const Figures& f) {
    auto v = [](std::int64_t x) { return x == kNull ? std::string("NULL") : std::to_string(x); };
    return os << "{" << f.points << ", " << v(f.min_step) << ", " << v(f.max_step) << "}";
}

std::int64_t column(const Stmt& q, int i) {
    return q.is_null(i) ? kNull : q.int64(i);
}

Figures stored(const std::string& path, std::int64_t series) {
    Db db(path, true);
    Stmt q(db, "SELECT points, min_step, max_step FROM series WHERE id=?");
    q.bind(1, series);
    if (!q.step()) throw SqliteError("no series " + std::to_string(series));
    return Figures{q.int64(0), column(q, 1), column(q, 2)};
}

/// Every series row's stored figures against COUNT/MIN/MAX over its points.
::testing::AssertionResult figures_match_points(const std::string& path) {
    Db db(path, true);
    Stmt q(db,
           "SELECT s.id, s.points, s.min_step, s.max_step, COUNT(p.step), MIN(p.step), "
           "MAX(p.step) FROM series s LEFT JOIN points p ON p.series_id = s.id "
           "GROUP BY s.id ORDER BY s.id");
    int rows = 0;
    for (; q.step(); ++rows) {
        Figures kept{q.int64(1), column(q, 2), column(q, 3)};
        Figures counted{q.int64(4), column(q, 5), column(q, 6)};
        if (!(kept == counted))
            return ::testing::AssertionFailure() << "series " << q.int64(0) << " keeps " << kept
                                                 << ", its points give " << counted;
    }
    if (rows == 0) return ::testing::AssertionFailure() << "no series rows";
    return ::testing::AssertionSuccess();
}

std::vector<std::string> series_columns(const std::string& path) {
    Db db(path, true);
    std::vector<std::string> out;
    for (Stmt q(db, "PRAGMA table_info(series)"); q.step();) out.emplace_back(q.text(1));
    return out;
}

/// A series' stored steps_ordered flag.
bool stored_ordered(const std::string& path, std::int64_t series) {
    Db db(path, true);
    Stmt q(db, "SELECT steps_ordered FROM series WHERE id=?");
    q.bind(1, series);
    if (!q.step()) throw SqliteError("no series " + std::to_string(series));
    return q.int64(0) != 0;
}

/// Whether a series' steps never go down in seq order, from a raw scan of its points.
bool scanned_ordered(const std::string& path, std::int64_t series) {
    Db db(path, true);
    Stmt q(db, "SELECT step FROM points WHERE series_id=? ORDER BY seq");
    q.bind(1, series);
    std::vector<std::int64_t> steps;
    while (q.step()) steps.push_back(q.int64(0));
    return std::is_sorted(steps.begin(), steps.end());
}

TEST(SeriesFigures, CommitsKeepCountAndStepBounds) {
    test::TempDir dir("tsstats");
    const std::string path = dir.path() + "/trainscope.db";
    Store store(path);
    store.register_run(kSession, "stats", "localhost", 1, 1.8e12);
    std::int64_t loss = store.series_id(kSession, 0, "train/loss");
    std::int64_t lr = store.series_id(kSession, 0, "train/lr");
    std::int64_t loss1 = store.series_id(kSession, 1, "train/loss");
    std::int64_t idle = store.series_id(kSession, 0, "never/logged");

    CommitBatch batch;
    // Two series interleaved; loss's steps out of order, step 9 twice; lr holds a NaN.
    batch.points = {{loss, 5, t_us(5), 2.0}, {lr, 5, t_us(5), 0.1},   {loss, 3, t_us(3), 2.2},
                    {lr, 6, t_us(6), kNaN},  {loss, 9, t_us(9), 1.9}, {loss, 4, t_us(4), 2.1},
                    {loss, 9, t_us(9), 1.8}};
    store.commit(batch);
    EXPECT_EQ(stored(path, loss), (Figures{5, 3, 9}));
    // Loss reaches below its minimum and above its maximum; rank 1's first points.
    batch.points = {{loss1, 7, t_us(7), 3.0},
                    {loss, 1, t_us(1), 2.5},
                    {loss, 12, t_us(12), 1.5},
                    {loss1, 0, t_us(0), 3.3}};
    store.commit(batch);
    batch.points = {{lr, 7, t_us(7), 0.2}};
    store.commit(batch);

    EXPECT_TRUE(figures_match_points(path));
    EXPECT_EQ(stored(path, loss), (Figures{7, 1, 12}));
    EXPECT_EQ(stored(path, lr), (Figures{3, 5, 7}));
    EXPECT_EQ(stored(path, loss1), (Figures{2, 0, 7}));
    EXPECT_EQ(stored(path, idle), (Figures{0, kNull, kNull}));

    // A commit that fails after the figures' UPDATE (a trigger makes its event insert abort)
    // leaves them as they were; the next commit counts from there.
    {
        Db db(path);
        db.exec(
            "CREATE TRIGGER fail_event BEFORE INSERT ON events WHEN NEW.kind = 'fail' "
            "BEGIN SELECT RAISE(ABORT, 'test failure'); END");
    }
    batch.points = {{loss, 100, t_us(100), 1.0}, {idle, -4, t_us(-4), 0.0}};
    batch.events = {StoredEvent{kSession, 0, 1.8e12, "fail", "rolled back"}};
    EXPECT_THROW(store.commit(batch), SqliteError);
    EXPECT_EQ(stored(path, loss), (Figures{7, 1, 12}));
    EXPECT_EQ(stored(path, idle), (Figures{0, kNull, kNull}));
    batch.events.clear();
    store.commit(batch);
    EXPECT_TRUE(figures_match_points(path));
    EXPECT_EQ(stored(path, loss), (Figures{8, 1, 100}));
    EXPECT_EQ(stored(path, idle), (Figures{1, -4, -4}));
}

// The tables as agents before the figures made them (runs is unchanged; the agent reads its
// last_seq to number new points).
constexpr const char* kOldSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
    session_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,          -- running | finished | crashed
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_ms REAL NOT NULL,
    ended_ms   REAL,
    last_ms    REAL,
    config     TEXT,
    model_info TEXT,
    last_seq   INTEGER NOT NULL DEFAULT 0  -- seq of the newest point of this run
);
CREATE TABLE IF NOT EXISTS series (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    name       TEXT NOT NULL,
    UNIQUE (session_id, rank, name)
);
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,   -- per-run order of arrival
    step      INTEGER NOT NULL,
    t_us      INTEGER NOT NULL,   -- Unix microseconds
    value     REAL,               -- NULL stands for NaN (SQLite has no NaN)
    PRIMARY KEY (series_id, seq)
) WITHOUT ROWID;
)sql";

/// A database as an agent before the series figures made it: one finished run (last seq 7)
/// with series 1 train/loss, 2 train/lr and 3 never/logged, and `points` (SQL VALUES rows
/// (series_id, seq, step, t_us, value), seq 1..7).
void make_old_database(const std::string& path, const std::string& points) {
    Db db(path);
    db.exec(kOldSchema);
    db.exec(
        "INSERT INTO runs(session_id, name, status, host, pid, started_ms, last_seq) "
        "VALUES ('01SERIESSTATS0000000000000', 'old', 'finished', 'localhost', 1, 1.8e12, 7);"
        "INSERT INTO series VALUES (1, '01SERIESSTATS0000000000000', 0, 'train/loss'),"
        "  (2, '01SERIESSTATS0000000000000', 0, 'train/lr'),"
        "  (3, '01SERIESSTATS0000000000000', 0, 'never/logged');");
    db.exec(("INSERT INTO points VALUES " + points).c_str());
}

TEST(SeriesFigures, OldDatabaseIsMigratedOnce) {
    test::TempDir dir("tsstats");
    const std::string path = dir.path() + "/trainscope.db";
    make_old_database(path,
                      "(1, 1, 10, 0, 2.5), (2, 2, 10, 0, 0.1), (1, 3, 8, 0, NULL), (1, 4, 11, 0, 2.4),"
                      "(2, 5, 11, 0, 0.1), (1, 6, 11, 0, 2.3), (1, 7, 2, 0, 2.9)");
    ASSERT_EQ(series_columns(path).size(), 4u);

    { Store store(path); }
    auto columns = series_columns(path);
    for (const char* c : {"points", "min_step", "max_step"})
        EXPECT_NE(std::find(columns.begin(), columns.end(), c), columns.end()) << c;
    EXPECT_TRUE(figures_match_points(path));
    EXPECT_EQ(stored(path, 1), (Figures{5, 2, 11}));
    EXPECT_EQ(stored(path, 2), (Figures{2, 10, 11}));
    EXPECT_EQ(stored(path, 3), (Figures{0, kNull, kNull}));

    // Opening it again neither alters the schema nor rewrites a series row.
    auto schema_version = [&] {
        Db db(path, true);
        Stmt q(db, "PRAGMA schema_version");
        q.step();
        return q.int64(0);
    };
    auto series_updates = [&] {
        Db db(path, true);
        Stmt q(db, "SELECT n FROM series_updates");
        q.step();
        return q.int64(0);
    };
    {
        Db db(path);
        db.exec(
            "CREATE TABLE series_updates (n INTEGER); INSERT INTO series_updates VALUES (0);"
            "CREATE TRIGGER count_series_updates AFTER UPDATE ON series "
            "BEGIN UPDATE series_updates SET n = n + 1; END;");
    }
    std::int64_t version = schema_version();
    {
        Store store(path);
        EXPECT_EQ(schema_version(), version);
        EXPECT_EQ(series_updates(), 0);
        EXPECT_EQ(stored(path, 1), (Figures{5, 2, 11}));

        // New commits keep the migrated figures right, a never-logged series' first too.
        store.register_run(kSession, "old", "localhost", 1, 1.8e12);
        ASSERT_EQ(store.series_id(kSession, 0, "train/loss"), 1);
        ASSERT_EQ(store.series_id(kSession, 0, "never/logged"), 3);
        CommitBatch batch;
        batch.points = {{1, 1, t_us(1), 3.0},
                        {3, 40, t_us(40), 1.0},
                        {1, 12, t_us(12), 2.2},
                        {3, 30, t_us(30), kNaN}};
        store.commit(batch);
    }
    EXPECT_TRUE(figures_match_points(path));
    EXPECT_EQ(stored(path, 1), (Figures{7, 1, 12}));
    EXPECT_EQ(stored(path, 2), (Figures{2, 10, 11}));
    EXPECT_EQ(stored(path, 3), (Figures{2, 30, 40}));

    // An older agent writing to the migrated database stores points but not the figures: the
    // next Store sees the run's counts fall short of its last seq and refills that run's.
    {
        Db db(path);
        db.exec(
            "INSERT INTO points VALUES (2, 12, 50, 0, 0.2);"
            "UPDATE runs SET last_seq = 12 WHERE session_id = '01SERIESSTATS0000000000000';");
    }
    ASSERT_EQ(stored(path, 2), (Figures{2, 10, 11}));
    { Store store(path); }
    EXPECT_TRUE(figures_match_points(path));
    EXPECT_EQ(stored(path, 2), (Figures{3, 10, 50}));
}

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();  // no from/to
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

/// A series request of kSession's `metric`, steps from..to, at most max_points.
SeriesRequest request(const char* metric, std::int64_t from, std::int64_t to, std::size_t max_points) {
    SeriesRequest req;
    req.session_id = kSession;
    req.metric = metric;
    req.from = from;
    req.to = to;
    req.max_points = max_points;
    return req;
}

/// The SQL text of every statement a connection runs, in order, and the virtual machine
/// steps they took (SQLITE_STMTSTATUS_VM_STEP, read as each one ends): a few per row visited,
/// so it tells a read of the range's rows from a scan of the whole series.
struct StatementLog {
    explicit StatementLog(Db& db) {
        sqlite3_trace_v2(db.handle(), SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE,
                         &StatementLog::on_statement, this);
    }
    static int on_statement(unsigned type, void* self, void* stmt, void*) {
        auto* log = static_cast<StatementLog*>(self);
        auto* s = static_cast<sqlite3_stmt*>(stmt);
        if (type == SQLITE_TRACE_STMT) log->sql.emplace_back(sqlite3_sql(s));
        else log->vm_steps += sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 1);
        return 0;
    }
    void clear() {
        sql.clear();
        vm_steps = 0;
    }
    bool counted() const {
        return std::any_of(sql.begin(), sql.end(), [](const std::string& s) {
            return s.find("COUNT(") != std::string::npos;
        });
    }
    std::vector<std::string> sql;
    std::int64_t vm_steps = 0;
};

/// What Queries::series must answer, computed from a raw scan of the series' rows: COUNT,
/// MIN and MAX over the range in C++, then the rows sorted or fed to MinMaxBuckets.
SeriesResult expected(const std::string& path, std::int64_t series, const SeriesRequest& req) {
    Db db(path, true);
    Stmt q(db, "SELECT seq, step, t_us, value FROM points WHERE series_id=?");
    q.bind(1, series);
    std::vector<StoredPoint> rows;
    // The envelope's buckets span the request clamped to the series' own step bounds.
    std::int64_t lo = kMax, hi = kMin;
    while (q.step()) {
        StoredPoint p{q.int64(0), q.int64(1), static_cast<double>(q.int64(2)) / 1000.0,
                      q.is_null(3) ? kNaN : q.real(3)};
        lo = std::min(lo, p.step);
        hi = std::max(hi, p.step);
        if (p.step >= req.from && p.step <= req.to) rows.push_back(p);
    }
    SeriesResult r;
    r.found = true;
    r.total = static_cast<std::int64_t>(rows.size());
    if (rows.size() <= req.max_points) {
        std::sort(rows.begin(), rows.end(), [](const StoredPoint& a, const StoredPoint& b) {
            return a.step != b.step ? a.step < b.step : a.seq < b.seq;
        });
        r.points = rows;
        return r;
    }
    MinMaxBuckets buckets(std::max(lo, req.from), std::min(hi, req.to), req.max_points);
    for (const StoredPoint& p : rows) buckets.add(p);
    r.downsampled = true;
    r.points = buckets.take();
    return r;
}

::testing::AssertionResult same_answer(const SeriesResult& got, const SeriesResult& want) {
    if (got.found != want.found || got.total != want.total || got.downsampled != want.downsampled)
        return ::testing::AssertionFailure()
               << "found/total/downsampled " << got.found << "/" << got.total << "/"
               << got.downsampled << ", want " << want.found << "/" << want.total << "/"
               << want.downsampled;
    if (got.points.size() != want.points.size())
        return ::testing::AssertionFailure()
               << got.points.size() << " points, want " << want.points.size();
    for (std::size_t i = 0; i < got.points.size(); ++i) {
        const StoredPoint &a = got.points[i], &b = want.points[i];
        bool same_value = a.value == b.value || (std::isnan(a.value) && std::isnan(b.value));
        if (a.seq != b.seq || a.step != b.step || a.t_ms != b.t_ms || !same_value)
            return ::testing::AssertionFailure()
                   << "point " << i << ": seq " << a.seq << " step " << a.step << ", want seq "
                   << b.seq << " step " << b.step;
    }
    return ::testing::AssertionSuccess();
}

TEST(SeriesFigures, WholeSeriesReadTakesTheKeptFigures) {
    test::TempDir dir("tsstats");
    const std::string path = dir.path() + "/trainscope.db";
    std::int64_t loss = 0;
    {
        Store store(path);
        store.register_run(kSession, "stats", "localhost", 1, 1.8e12);
        loss = store.series_id(kSession, 0, "train/loss");
        std::int64_t other = store.series_id(kSession, 0, "train/lr");
        store.series_id(kSession, 0, "never/logged");
        // Three commits: steps 1000-1999 shuffled, then 0-999 (the minimum moves down), then
        // 2000-2999 with NaNs and repeated steps (the maximum moves up); another series
        // interleaved throughout.
        std::mt19937 gen(7);
        CommitBatch batch;
        for (std::int64_t first : {1000, 0, 2000}) {
            std::vector<std::int64_t> steps(1000);
            for (std::int64_t i = 0; i < 1000; ++i) steps[i] = first + i;
            std::shuffle(steps.begin(), steps.end(), gen);
            if (first == 2000) steps.insert(steps.end(), {2500, 2999, 2000});
            batch.points.clear();
            for (std::int64_t s : steps) {
                double v = 4.0 / (1.0 + 0.001 * static_cast<double>(s)) +
                           0.01 * static_cast<double>(s % 7);
                if (s % 401 == 0 && first == 2000) v = kNaN;
                batch.points.push_back({loss, s, t_us(s), v});
                batch.points.push_back({other, s, t_us(s), -v});
            }
            store.commit(batch);
        }
    }

    Queries q(path);
    StatementLog log(q.db());
    auto ask = [&](std::int64_t from, std::int64_t to, std::size_t max_points,
                   const char* metric = "train/loss") {
        SeriesRequest req = request(metric, from, to, max_points);
        log.clear();
        return std::make_pair(req, q.series(req));
    };
    using Range = std::pair<std::int64_t, std::int64_t>;

    // The chart's default request: downsampled, no COUNT pass, the raw scan's answer.
    auto [req, whole] = ask(kMin, kMax, 200);
    EXPECT_FALSE(log.counted());
    EXPECT_EQ(whole.total, 3003);
    EXPECT_TRUE(whole.downsampled);
    EXPECT_TRUE(same_answer(whole, expected(path, loss, req)));

    // Bounds that still cover the whole series (0-2999) take the same path, same answer.
    for (auto [from, to] : {Range{-1, 3000}, Range{0, 2999}}) {
        auto covering = ask(from, to, 200).second;
        EXPECT_FALSE(log.counted()) << from << ".." << to;
        EXPECT_TRUE(same_answer(covering, whole)) << from << ".." << to;
    }

    // A narrower range counts its rows, and answers what the raw scan gives.
    for (auto [from, to] : {Range{1, 2999}, Range{0, 2998}, Range{500, 2500}}) {
        auto [narrow_req, narrow] = ask(from, to, 200);
        EXPECT_TRUE(log.counted()) << from << ".." << to;
        EXPECT_TRUE(same_answer(narrow, expected(path, loss, narrow_req))) << from << ".." << to;
    }

    // At full resolution (every point fits) and for a series with no points: no COUNT pass.
    auto [full_req, full] = ask(kMin, kMax, 5000);
    EXPECT_FALSE(log.counted());
    EXPECT_FALSE(full.downsampled);
    EXPECT_TRUE(same_answer(full, expected(path, loss, full_req)));
    auto idle = ask(kMin, kMax, 200, "never/logged").second;
    EXPECT_FALSE(log.counted());
    EXPECT_TRUE(idle.found);
    EXPECT_EQ(idle.total, 0);
    EXPECT_TRUE(idle.points.empty());
}

TEST(SeriesFigures, StepsOrderedFollowsCommits) {
    test::TempDir dir("tsstats");
    const std::string path = dir.path() + "/trainscope.db";
    Store store(path);
    store.register_run(kSession, "stats", "localhost", 1, 1.8e12);
    std::int64_t up = store.series_id(kSession, 0, "train/loss");  // steps only go up
    std::int64_t back = store.series_id(kSession, 0, "train/lr");   // a later batch goes back
    std::int64_t inner = store.series_id(kSession, 0, "train/acc"); // out of order in a batch
    std::int64_t idle = store.series_id(kSession, 0, "never/logged");
    auto check = [&](bool want_up, bool want_back, bool want_inner, const char* when) {
        EXPECT_EQ(stored_ordered(path, up), want_up) << when;
        EXPECT_EQ(stored_ordered(path, back), want_back) << when;
        EXPECT_EQ(stored_ordered(path, inner), want_inner) << when;
        EXPECT_TRUE(stored_ordered(path, idle)) << when;
        for (std::int64_t id : {up, back, inner, idle})
            EXPECT_EQ(stored_ordered(path, id), scanned_ordered(path, id)) << when << " " << id;
    };
    check(true, true, true, "no points");

    CommitBatch batch;
    // Interleaved; up repeats step 2 inside the batch; inner goes 3 -> 2.
    batch.points = {{up, 1, t_us(1), 1.0},    {back, 5, t_us(5), 1.0},  {up, 2, t_us(2), 1.0},
                    {inner, 1, t_us(1), 1.0}, {up, 2, t_us(2), kNaN},   {inner, 3, t_us(3), 1.0},
                    {back, 6, t_us(6), 1.0},  {inner, 2, t_us(2), 1.0}, {up, 3, t_us(3), 1.0}};
    store.commit(batch);
    check(true, true, false, "first commit");

    // up starts at its stored max_step (3, repeated) and climbs past it: compared with the
    // max_step before this batch (after it, 3 >= 4 would fail); back starts below its max_step
    // (4 < 6) although the batch itself climbs.
    batch.points = {{up, 3, t_us(3), 1.0}, {back, 4, t_us(4), 1.0}, {up, 4, t_us(4), 1.0},
                    {back, 10, t_us(10), 1.0}};
    store.commit(batch);
    check(true, false, false, "second commit");

    // Batches in order again do not bring the flag back.
    batch.points = {{back, 11, t_us(11), 1.0}, {inner, 40, t_us(40), 1.0},
                    {up, 4, t_us(4), 1.0},     {inner, 41, t_us(41), 1.0}};
    store.commit(batch);
    check(true, false, false, "third commit");

    // A commit that rolls back (a trigger aborts its event insert) after going back in step
    // leaves the flag as it was; committed again, it turns it off.
    {
        Db db(path);
        db.exec(
            "CREATE TRIGGER fail_event BEFORE INSERT ON events WHEN NEW.kind = 'fail' "
            "BEGIN SELECT RAISE(ABORT, 'test failure'); END");
    }
    batch.points = {{up, 5, t_us(5), 1.0}, {up, 0, t_us(0), 1.0}};
    batch.events = {StoredEvent{kSession, 0, 1.8e12, "fail", "rolled back"}};
    EXPECT_THROW(store.commit(batch), SqliteError);
    check(true, false, false, "rolled back");
    batch.points = {{up, 5, t_us(5), 1.0}};
    batch.events.clear();
    store.commit(batch);
    check(true, false, false, "after the rollback");
    batch.points = {{up, 2, t_us(2), 1.0}};
    store.commit(batch);
    check(false, false, false, "up went back");
    batch.points = {{up, 100, t_us(100), 1.0}};
    store.commit(batch);
    check(false, false, false, "up climbs again");
    EXPECT_TRUE(figures_match_points(path));
}

TEST(SeriesFigures, OldDatabaseGetsStepsOrdered) {
    test::TempDir dir("tsstats");
    for (bool with_figures : {false, true}) {
        SCOPED_TRACE(with_figures ? "agent with figures, no steps_ordered" : "agent before figures");
        const std::string path = dir.path() + (with_figures ? "/figures.db" : "/old.db");
        {
            // 1: ordered, a step repeated, interleaved with 2; 2: goes back once (11 -> 10);
            // 3: no points.
            make_old_database(path,
                              "(1, 1, 8, 0, 2.5), (2, 2, 11, 0, 0.1), (1, 3, 8, 0, NULL), (2, 4, 10, 0, 0.1),"
                              "(1, 5, 11, 0, 2.4), (2, 6, 12, 0, 0.1), (1, 7, 20, 0, 2.9)");
            Db db(path);
            if (with_figures)
                db.exec(
                    "ALTER TABLE series ADD COLUMN points INTEGER NOT NULL DEFAULT 0;"
                    "ALTER TABLE series ADD COLUMN min_step INTEGER;"
                    "ALTER TABLE series ADD COLUMN max_step INTEGER;"
                    "UPDATE series SET (points, min_step, max_step) = (SELECT COUNT(*), "
                    "MIN(step), MAX(step) FROM points WHERE series_id = series.id);");
        }
        { Store store(path); }
        auto columns = series_columns(path);
        EXPECT_NE(std::find(columns.begin(), columns.end(), "steps_ordered"), columns.end());
        EXPECT_TRUE(stored_ordered(path, 1));
        EXPECT_FALSE(stored_ordered(path, 2));
        EXPECT_TRUE(stored_ordered(path, 3));
        EXPECT_TRUE(figures_match_points(path));

        // An agent before figures storing a point that goes back (its counts then fall short
        // of the run's last seq): the next Store refills the run's series, the flag too.
        {
            Db db(path);
            db.exec(
                "INSERT INTO points VALUES (1, 8, 9, 0, 2.0);"
                "UPDATE runs SET last_seq = 8 WHERE session_id = '01SERIESSTATS0000000000000';");
        }
        ASSERT_TRUE(stored_ordered(path, 1));
        { Store store(path); }
        EXPECT_FALSE(stored_ordered(path, 1));
        EXPECT_FALSE(stored_ordered(path, 2));
        EXPECT_TRUE(stored_ordered(path, 3));
        EXPECT_TRUE(figures_match_points(path));
    }
}

TEST(SeriesFigures, ZoomedReadOfOrderedSeriesReadsOnlyItsRange) {
    test::TempDir dir("tsstats");
    const std::string path = dir.path() + "/trainscope.db";
    constexpr std::int64_t kPoints = 20000;
    std::int64_t loss = 0, shuffled = 0, late = 0;
    {
        Store store(path);
        store.register_run(kSession, "stats", "localhost", 1, 1.8e12);
        loss = store.series_id(kSession, 0, "train/loss");          // steps only go up
        shuffled = store.series_id(kSession, 0, "train/shuffled");  // steps in any order
        late = store.series_id(kSession, 0, "train/late");          // loss, one step back
        // loss: steps 0, 10, 20, ... each four times, but step 20000 304 times; NaNs here and
        // there. Five commits, the other series interleaved, so loss's seqs have gaps.
        std::vector<std::int64_t> steps;
        for (std::int64_t i = 0, step = 0; i < kPoints; ++i) {
            if (i > 0 && i % 4 == 0 && (i <= 8000 || i > 8300)) step += 10;
            steps.push_back(step);
        }
        std::mt19937 gen(11);
        CommitBatch batch;
        for (std::int64_t first = 0; first < kPoints; first += kPoints / 5) {
            batch.points.clear();
            // late's last batch starts below its max_step, then climbs as loss does.
            if (first == kPoints / 5 * 4) batch.points.push_back({late, 15000, t_us(15000), 0.5});
            std::vector<std::int64_t> part(steps.begin() + first, steps.begin() + first + kPoints / 5);
            std::vector<std::int64_t> mixed = part;
            std::shuffle(mixed.begin(), mixed.end(), gen);
            for (std::size_t i = 0; i < part.size(); ++i) {
                std::int64_t s = part[i];
                double v = s % 1370 == 0 ? kNaN : 4.0 / (1.0 + 0.001 * static_cast<double>(s)) +
                                                      0.01 * static_cast<double>((first + i) % 7);
                batch.points.push_back({loss, s, t_us(s), v});
                if (i % 3 == 0) batch.points.push_back({shuffled, mixed[i], t_us(mixed[i]), -v});
                batch.points.push_back({late, s, t_us(s), v});
            }
            store.commit(batch);
        }
    }
    ASSERT_TRUE(stored_ordered(path, loss));
    ASSERT_FALSE(stored_ordered(path, shuffled));
    ASSERT_FALSE(stored_ordered(path, late));

    Queries q(path);
    StatementLog log(q.db());
    auto ask = [&](const char* metric, std::int64_t from, std::int64_t to, std::size_t max_points) {
        SeriesRequest req = request(metric, from, to, max_points);
        log.clear();
        return std::make_pair(req, q.series(req));
    };
    using Range = std::pair<std::int64_t, std::int64_t>;
    const std::int64_t last_step = 10 * (kPoints / 4 - 1) - 750;  // 49240
    const std::vector<Range> ranges = {
        {10000, 12000},          // inside
        {0, 300},                // at the first step
        {48000, last_step},      // at the last step
        {kMin, 500},             // beyond the first step
        {-1000, 25},             // beyond the first step, ending between two steps
        {49000, kMax},           // beyond the last step
        {48995, 1'000'000},      // beyond the last step, starting between two steps
        {11, 19},                // empty: between two steps
        {-50, -1},               // empty: before the first step
        {last_step + 1, kMax},   // empty: after the last step
        {20000, 20000},          // one step, 304 points
        {20010, 20010},          // one step, 4 points
        {19990, 20010},          // the 304 with their neighbours
        {3, 49230},              // all but the two ends
    };
    for (auto [from, to] : ranges) {
        for (std::size_t max_points : {std::size_t{100}, std::size_t{100000}}) {
            std::ostringstream where;
            where << from << ".." << to << " max_points " << max_points;
            auto [req, got] = ask("train/loss", from, to, max_points);
            auto want = expected(path, loss, req);
            EXPECT_TRUE(same_answer(got, want)) << where.str();
            // A handful of steps per row of the range plus the binary search's seeks; a scan
            // of the series takes more than one per row of the whole series.
            EXPECT_LT(log.vm_steps, 40 * want.total + 3000) << where.str();

            for (auto [metric, id] : {std::pair{"train/shuffled", shuffled}, std::pair{"train/late", late}}) {
                auto [other_req, other] = ask(metric, from, to, max_points);
                EXPECT_TRUE(same_answer(other, expected(path, id, other_req))) << metric << " " << where.str();
                // Their reads are bounded by the rollups' seq spans, not by a binary search
                // (rollup_lod_test.cpp checks those answers on random series).
            }
        }
    }
    // The whole series still takes the kept figures, no COUNT pass.
    auto [whole_req, whole] = ask("train/loss", kMin, kMax, 100);
    EXPECT_FALSE(log.counted());
    EXPECT_EQ(whole.total, kPoints);
    EXPECT_TRUE(same_answer(whole, expected(path, loss, whole_req)));
}

}  // namespace
}  // namespace trainscope::agent
