// Proves: the level-of-detail store (store/rollups.hpp, store/rollup_query.hpp) answers every
// series request exactly as the envelope computed here from the raw points would: random
// series (steps in order, repeated, shuffled, late points, negative and sparse steps, NaN and
// ±Inf, spikes, tied values) committed in random interleaved batches, asked for random ranges
// and budgets. Each rollup row equals the aggregate of its bucket's raw points; a corrupted
// row shows in the answer (the rollups are what is read). A rolled-back commit leaves the
// rollups as they were. A database written without rollups (today's schema) is migrated when
// a Store opens it, with progress reported, and answers the same; a series an older agent
// wrote to since is rebuilt. Deleting a run deletes its rollups and nothing else. A database
// whose points are in the clustered (series_id, seq) table of agents before the append-only
// layout is moved on open, with progress reported: every row is still there and every
// request answers exactly as before.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "store/queries.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "support/random_series.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::agent {
namespace {

using test::random_series;

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
const char* const kSession = "01ROLLUPTEST0000000000000A";
const int kLevels[] = {6, 9, 12, 15, 18};

std::int64_t t_us(std::int64_t step) { return 1'800'000'000'000'000 + step * 1000 + 7; }

bool earlier(const StoredPoint& a, const StoredPoint& b) {
    return a.step != b.step ? a.step < b.step : a.seq < b.seq;
}

bool same_point(const StoredPoint& a, const StoredPoint& b) {
    bool same_value = a.value == b.value || (std::isnan(a.value) && std::isnan(b.value));
    return a.seq == b.seq && a.step == b.step && a.t_ms == b.t_ms && same_value;
}

std::vector<StoredPoint> raw_points(const std::string& path, std::int64_t series) {
    Db db(path, true);
    Stmt q(db, "SELECT seq, step, t_us, value FROM points WHERE series_id=? ORDER BY seq");
    q.bind(1, series);
    std::vector<StoredPoint> out;
    while (q.step())
        out.push_back(StoredPoint{q.int64(0), q.int64(1), static_cast<double>(q.int64(2)) / 1000.0,
                                  q.is_null(3) ? kNaN : q.real(3)});
    return out;
}

/// The envelope by its definition (docs/store.md), from the raw points: buckets of 2^k steps
/// aligned at multiples of 2^k (k = 64: one bucket) over the request clamped to the series' steps, k the smallest
/// giving at most (max_points - 2) / 2 of them; per bucket the min and max finite value
/// (ties: lower seq) or, if it has one, its earliest NaN/Inf and its max; plus the range's
/// first and last points.
SeriesResult brute_force(const std::vector<StoredPoint>& all, const SeriesRequest& req) {
    SeriesResult r;
    r.found = true;
    std::vector<StoredPoint> in;
    std::int64_t series_lo = kMax, series_hi = kMin;
    for (const StoredPoint& p : all) {
        series_lo = std::min(series_lo, p.step);
        series_hi = std::max(series_hi, p.step);
        if (p.step >= req.from && p.step <= req.to) in.push_back(p);
    }
    std::sort(in.begin(), in.end(), earlier);
    r.total = static_cast<std::int64_t>(in.size());
    if (in.size() <= req.max_points) {
        r.points = in;
        return r;
    }
    r.downsampled = true;
    if (req.max_points == 1) {
        r.points = {in.back()};
        return r;
    }
    std::int64_t lo = std::max(req.from, series_lo), hi = std::min(req.to, series_hi);
    std::size_t n = req.max_points >= 4 ? (req.max_points - 2) / 2 : 0;
    std::vector<StoredPoint> out = {in.front(), in.back()};
    if (n > 0) {
        // k = 64: one bucket (a range across zero needs it when n is 1).
        auto bucket = [](std::int64_t step, int k) { return k >= 64 ? 0 : step >> k; };
        int k = 0;
        while (k < 64 && static_cast<std::size_t>(bucket(hi, k) - bucket(lo, k) + 1) > n) ++k;
        struct Kept {
            const StoredPoint *min = nullptr, *max = nullptr, *nonfinite = nullptr;
        };
        std::map<std::int64_t, Kept> buckets;
        for (const StoredPoint& p : in) {  // (step, seq) order: the first NaN/Inf is the earliest
            Kept& b = buckets[bucket(p.step, k)];
            if (!std::isfinite(p.value)) {
                if (!b.nonfinite) b.nonfinite = &p;
                continue;
            }
            if (!b.min || p.value < b.min->value || (p.value == b.min->value && p.seq < b.min->seq)) b.min = &p;
            if (!b.max || p.value > b.max->value || (p.value == b.max->value && p.seq < b.max->seq)) b.max = &p;
        }
        for (const auto& [index, b] : buckets) {
            if (b.nonfinite) out.push_back(*b.nonfinite);
            else if (b.min) out.push_back(*b.min);
            if (b.max) out.push_back(*b.max);
        }
    }
    std::sort(out.begin(), out.end(), earlier);
    out.erase(std::unique(out.begin(), out.end(),
                          [](const StoredPoint& a, const StoredPoint& b) { return a.seq == b.seq; }),
              out.end());
    r.points = out;
    return r;
}

::testing::AssertionResult same_answer(const SeriesResult& got, const SeriesResult& want) {
    if (got.found != want.found || got.total != want.total || got.downsampled != want.downsampled)
        return ::testing::AssertionFailure()
               << "found/total/downsampled " << got.found << "/" << got.total << "/" << got.downsampled
               << ", want " << want.found << "/" << want.total << "/" << want.downsampled;
    if (got.points.size() != want.points.size())
        return ::testing::AssertionFailure() << got.points.size() << " points, want " << want.points.size();
    for (std::size_t i = 0; i < got.points.size(); ++i)
        if (!same_point(got.points[i], want.points[i]))
            return ::testing::AssertionFailure()
                   << "point " << i << ": seq " << got.points[i].seq << " step " << got.points[i].step
                   << " value " << got.points[i].value << ", want seq " << want.points[i].seq << " step "
                   << want.points[i].step << " value " << want.points[i].value;
    return ::testing::AssertionSuccess();
}

/// Every rollup row of the series equals the aggregate of its bucket's raw points, and every
/// bucket with points has its row, at every level.
::testing::AssertionResult rollups_match_points(const std::string& path, std::int64_t series) {
    std::vector<StoredPoint> all = raw_points(path, series);
    Db db(path, true);
    Stmt q(db,
           "SELECT bucket, count, nonfinite, sum, seq_lo, seq_hi, first_seq, last_seq, min_seq, max_seq, "
           "nf_seq, min_value, max_value FROM rollups WHERE series_id=? AND level=? ORDER BY bucket");
    for (int level : kLevels) {
        std::map<std::int64_t, std::vector<const StoredPoint*>> want;
        for (const StoredPoint& p : all) want[p.step >> level].push_back(&p);
        q.bind(1, series).bind(2, level);
        std::size_t rows = 0;
        while (q.step()) {
            ++rows;
            std::int64_t bucket = q.int64(0);
            std::ostringstream where;
            where << "level " << level << " bucket " << bucket << ": ";
            auto it = want.find(bucket);
            if (it == want.end()) return ::testing::AssertionFailure() << where.str() << "row without points";
            const auto& pts = it->second;
            std::int64_t nonfinite = 0, seq_lo = kMax, seq_hi = kMin;
            double sum = 0;
            const StoredPoint *first = nullptr, *last = nullptr, *mn = nullptr, *mx = nullptr, *nf = nullptr;
            for (const StoredPoint* p : pts) {
                seq_lo = std::min(seq_lo, p->seq);
                seq_hi = std::max(seq_hi, p->seq);
                if (!first || earlier(*p, *first)) first = p;
                if (!last || earlier(*last, *p)) last = p;
                if (!std::isfinite(p->value)) {
                    ++nonfinite;
                    if (!nf || earlier(*p, *nf)) nf = p;
                    continue;
                }
                sum += p->value;
                if (!mn || p->value < mn->value || (p->value == mn->value && p->seq < mn->seq)) mn = p;
                if (!mx || p->value > mx->value || (p->value == mx->value && p->seq < mx->seq)) mx = p;
            }
            bool ok = q.int64(1) == static_cast<std::int64_t>(pts.size()) && q.int64(2) == nonfinite &&
                      std::abs(q.real(3) - sum) <= 1e-9 * (1 + std::abs(sum)) && q.int64(4) == seq_lo &&
                      q.int64(5) == seq_hi && q.int64(6) == first->seq && q.int64(7) == last->seq &&
                      (mn ? q.int64(8) == mn->seq && q.real(11) == mn->value : q.is_null(8)) &&
                      (mx ? q.int64(9) == mx->seq && q.real(12) == mx->value : q.is_null(9)) &&
                      (nf ? q.int64(10) == nf->seq : q.is_null(10));
            if (!ok) return ::testing::AssertionFailure() << where.str() << "differs from its " << pts.size() << " points";
        }
        q.reset();
        if (rows != want.size())
            return ::testing::AssertionFailure() << "level " << level << ": " << rows << " rows, " << want.size()
                                                 << " buckets with points";
    }
    return ::testing::AssertionSuccess();
}

std::int64_t rollup_rows(const std::string& path, std::int64_t series) {
    Db db(path, true);
    Stmt q(db, "SELECT COUNT(*) FROM rollups WHERE series_id=?");
    q.bind(1, series);
    q.step();
    return q.int64(0);
}

SeriesRequest request(const std::string& metric, std::int64_t from, std::int64_t to, std::size_t max_points) {
    SeriesRequest req;
    req.session_id = kSession;
    req.metric = metric;
    req.rank = 0;
    req.from = from;
    req.to = to;
    req.max_points = max_points;
    return req;
}

struct Written {
    std::map<std::string, std::int64_t> ids;
};

/// Commits the series in random interleaved batches (so buckets are touched across commits,
/// cached, evicted and read back).
Written write_series(Store& store, std::mt19937& gen,
                     const std::map<std::string, std::vector<std::pair<std::int64_t, double>>>& series) {
    Written w;
    std::map<std::string, std::size_t> next;
    for (const auto& [name, pts] : series) {
        w.ids[name] = store.series_id(kSession, 0, name);
        next[name] = 0;
    }
    CommitBatch batch;
    for (bool more = true; more;) {
        more = false;
        batch.clear();
        for (const auto& [name, pts] : series) {
            std::size_t& i = next[name];
            std::size_t take = std::min<std::size_t>(pts.size() - i, gen() % 3000 + 1);
            for (std::size_t end = i + take; i < end; ++i)
                batch.points.push_back(PendingPoint{w.ids[name], pts[i].first, t_us(pts[i].first), pts[i].second});
            more = more || i < pts.size();
        }
        store.commit(batch);
    }
    return w;
}

/// Random requests on every series: the answer equals the brute-force envelope.
void expect_answers_match(const std::string& path, const Written& w, std::mt19937& gen, int requests) {
    Queries q(path);
    const std::size_t budgets[] = {1, 2, 3, 4, 5, 6, 9, 10, 50, 100, 1000, 5000};
    for (const auto& [name, id] : w.ids) {
        std::vector<StoredPoint> all = raw_points(path, id);
        std::int64_t lo = kMax, hi = kMin;
        for (const StoredPoint& p : all) {
            lo = std::min(lo, p.step);
            hi = std::max(hi, p.step);
        }
        std::uniform_int_distribution<std::int64_t> step(lo - 300, hi + 300);
        for (int i = 0; i < requests; ++i) {
            std::int64_t a = step(gen), b = step(gen);
            if (a > b) std::swap(a, b);
            if (i % 10 == 0) a = kMin;
            if (i % 7 == 0) b = kMax;
            if (i % 5 == 0) b = a + static_cast<std::int64_t>(gen() % 2000);  // a zoom
            std::size_t max_points = i % 3 == 0 ? gen() % 3000 + 1 : budgets[gen() % std::size(budgets)];
            SeriesRequest req = request(name, a, b, max_points);
            EXPECT_TRUE(same_answer(q.series(req), brute_force(all, req)))
                << name << " " << a << ".." << b << " max_points " << max_points;
        }
    }
}

TEST(RollupLod, AnswersEqualBruteForce) {
    test::TempDir dir("tsrollup");
    const std::string path = dir.path() + "/trainscope.db";
    std::mt19937 gen(20261205);
    Written w;
    {
        Store store(path);
        store.register_run(kSession, "lod", "localhost", 1, 1.8e12);
        w = write_series(store, gen, random_series(gen, 12000));
    }
    for (const auto& [name, id] : w.ids) EXPECT_TRUE(rollups_match_points(path, id)) << name;
    expect_answers_match(path, w, gen, 150);

    // The answer is read from the rollups: a corrupted level-12 max shows in a coarse view.
    {
        Db db(path);
        db.exec(("UPDATE rollups SET max_value = 1e300 WHERE level = 12 AND series_id = " +
                 std::to_string(w.ids["ordered"])).c_str());
    }
    Queries q(path);
    SeriesResult coarse = q.series(request("ordered", kMin, kMax, 10));
    ASSERT_TRUE(coarse.downsampled);
    EXPECT_TRUE(std::any_of(coarse.points.begin(), coarse.points.end(),
                            [](const StoredPoint& p) { return p.value == 1e300; }));
}

TEST(RollupLod, RolledBackCommitLeavesRollups) {
    test::TempDir dir("tsrollup");
    const std::string path = dir.path() + "/trainscope.db";
    Store store(path);
    store.register_run(kSession, "lod", "localhost", 1, 1.8e12);
    std::int64_t id = store.series_id(kSession, 0, "train/loss");
    CommitBatch batch;
    for (std::int64_t s = 0; s < 1000; ++s) batch.points.push_back({id, s, t_us(s), 1.0 + static_cast<double>(s % 13)});
    store.commit(batch);
    {
        Db db(path);
        db.exec("CREATE TRIGGER fail_event BEFORE INSERT ON events WHEN NEW.kind = 'fail' "
                "BEGIN SELECT RAISE(ABORT, 'test failure'); END");
    }
    // Into the cached newest buckets and an old one, then the transaction fails.
    batch.points = {{id, 1000, t_us(1000), 99.0}, {id, 5, t_us(5), -99.0}};
    batch.events = {StoredEvent{kSession, 0, 1.8e12, "fail", "rolled back"}};
    EXPECT_THROW(store.commit(batch), SqliteError);
    EXPECT_TRUE(rollups_match_points(path, id));
    batch.events.clear();
    batch.points = {{id, 1001, t_us(1001), 7.0}, {id, 6, t_us(6), 0.5}};
    store.commit(batch);
    EXPECT_TRUE(rollups_match_points(path, id));
}

TEST(RollupLod, DatabaseWithoutRollupsIsMigratedOnOpen) {
    test::TempDir dir("tsrollup");
    const std::string path = dir.path() + "/trainscope.db";
    std::mt19937 gen(7);
    Written w;
    {
        Store store(path);
        store.register_run(kSession, "lod", "localhost", 1, 1.8e12);
        w = write_series(store, gen, random_series(gen, 12000));
    }
    {
        // Today's schema: the same tables without rollups, user_version 0.
        Db db(path);
        db.exec("DROP TABLE rollups; PRAGMA user_version=0");
    }
    std::vector<std::string> progress;
    { Store store(path, [&progress](const std::string& line) { progress.push_back(line); }); }
    ASSERT_FALSE(progress.empty());
    EXPECT_NE(progress.front().find("building rollups of 7 series"), std::string::npos) << progress.front();
    EXPECT_NE(progress.back().find("rollups built"), std::string::npos) << progress.back();
    {
        Db db(path, true);
        Stmt version(db, "PRAGMA user_version");
        ASSERT_TRUE(version.step());
        EXPECT_EQ(version.int64(0), 1);
    }
    for (const auto& [name, id] : w.ids) EXPECT_TRUE(rollups_match_points(path, id)) << name;
    expect_answers_match(path, w, gen, 40);

    // Opening it again builds nothing.
    progress.clear();
    { Store store(path, [&progress](const std::string& line) { progress.push_back(line); }); }
    EXPECT_TRUE(progress.empty());

    // An agent without rollups wrote to one series since (points, series figures, last_seq):
    // its rollups no longer add up and are rebuilt, the others are left alone.
    {
        Db db(path);
        std::int64_t id = w.ids["ordered"];
        db.exec(("INSERT INTO points(series_id, seq, step, t_us, value) SELECT " + std::to_string(id) +
                 ", r.last_seq + 1, 100, 0, 1e6 FROM runs r; "
                 "UPDATE series SET points = points + 1 WHERE id = " + std::to_string(id) +
                 "; UPDATE runs SET last_seq = last_seq + 1")
                    .c_str());
    }
    progress.clear();
    { Store store(path, [&progress](const std::string& line) { progress.push_back(line); }); }
    ASSERT_FALSE(progress.empty());
    EXPECT_NE(progress.front().find("building rollups of 1 series"), std::string::npos) << progress.front();
    for (const auto& [name, id] : w.ids) EXPECT_TRUE(rollups_match_points(path, id)) << name;
    expect_answers_match(path, w, gen, 20);
}

TEST(RollupLod, ClusteredPointsTableIsMovedOnOpen) {
    test::TempDir dir("tsrollup");
    const std::string path = dir.path() + "/trainscope.db";
    std::mt19937 gen(11);
    Written w;
    {
        Store store(path);
        store.register_run(kSession, "moved", "localhost", 1, 1.8e12);
        w = write_series(store, gen, random_series(gen, 12000));
    }
    // The rows and the answers to a fixed set of requests, before.
    std::map<std::int64_t, std::vector<StoredPoint>> rows_before;
    std::vector<SeriesRequest> requests;
    std::vector<SeriesResult> answers_before;
    {
        Queries q(path);
        for (const auto& [name, id] : w.ids) {
            rows_before[id] = raw_points(path, id);
            const auto& all = rows_before[id];
            std::int64_t lo = all.front().step, hi = all.back().step;
            for (std::size_t max_points : {std::size_t{1}, std::size_t{10}, std::size_t{1000}, std::size_t{5000}, std::size_t{20000}})
                for (auto [from, to] : {std::pair{kMin, kMax}, std::pair{lo + 100, lo + 900}, std::pair{hi - 3000, hi + 1}}) {
                    requests.push_back(request(name, from, to, max_points));
                    answers_before.push_back(q.series(requests.back()));
                }
            SeriesRequest newest = request(name, kMin, kMax, 1);
            newest.last_only = true;
            requests.push_back(newest);
            answers_before.push_back(q.series(newest));
        }
    }
    std::int64_t total = 0;
    for (const auto& [id, rows] : rows_before) total += static_cast<std::int64_t>(rows.size());
    {
        // Today's layout, as agents before this one made it: the `points` table, its rows
        // written in seq order (commit by commit).
        Db db(path);
        struct Old {
            std::int64_t series;
            StoredPoint p;
        };
        std::vector<Old> old;
        for (const auto& [id, rows] : rows_before)
            for (const StoredPoint& p : rows) old.push_back(Old{id, p});
        std::sort(old.begin(), old.end(), [](const Old& a, const Old& b) { return a.p.seq < b.p.seq; });
        db.exec(R"sql(
DROP TRIGGER points_insert; DROP VIEW points; DROP TABLE point_rows; DROP TABLE point_chunks;
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,   -- per-run order of arrival
    step      INTEGER NOT NULL,
    t_us      INTEGER NOT NULL,   -- Unix microseconds
    value     REAL,               -- NULL stands for NaN (SQLite has no NaN)
    PRIMARY KEY (series_id, seq)
) WITHOUT ROWID;
)sql");
        Transaction tx(db);
        Stmt insert(db, "INSERT INTO points(series_id, seq, step, t_us, value) VALUES (?,?,?,?,?)");
        for (const Old& o : old) {
            insert.bind(1, o.series).bind(2, o.p.seq).bind(3, o.p.step)
                .bind(4, static_cast<std::int64_t>(std::llround(o.p.t_ms * 1000.0)));
            if (std::isnan(o.p.value)) insert.bind_null(5);
            else insert.bind(5, o.p.value);
            insert.run();
        }
        tx.commit();
    }
    std::vector<std::string> progress;
    { Store store(path, [&progress](const std::string& line) { progress.push_back(line); }); }
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.front(), "moving " + std::to_string(total) + " points to the append-only layout");
    EXPECT_NE(progress.back().find("points moved: " + std::to_string(total)), std::string::npos) << progress.back();
    {
        Db db(path, true);
        Stmt kind(db, "SELECT type FROM sqlite_master WHERE name = 'points'");
        ASSERT_TRUE(kind.step());
        EXPECT_EQ(kind.text(0), "view");
    }
    for (const auto& [id, rows] : rows_before) {
        std::vector<StoredPoint> after = raw_points(path, id);
        ASSERT_EQ(after.size(), rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) ASSERT_TRUE(same_point(after[i], rows[i])) << "row " << i;
        EXPECT_TRUE(rollups_match_points(path, id));  // nothing to rebuild: they were whole
    }
    {
        Queries q(path);
        for (std::size_t i = 0; i < requests.size(); ++i)
            EXPECT_TRUE(same_answer(q.series(requests[i]), answers_before[i]))
                << requests[i].metric << " [" << requests[i].from << ", " << requests[i].to << "] max "
                << requests[i].max_points << (requests[i].last_only ? " last only" : "");
    }
    expect_answers_match(path, w, gen, 20);

    // Opened again: nothing to move. Written to: the new points follow on.
    progress.clear();
    {
        Store store(path, [&progress](const std::string& line) { progress.push_back(line); });
        EXPECT_TRUE(progress.empty());
        write_series(store, gen, random_series(gen, 12000));
    }
    expect_answers_match(path, w, gen, 20);
}

TEST(RollupLod, DeletingARunDeletesItsRollups) {
    test::TempDir dir("tsrollup");
    const std::string path = dir.path() + "/trainscope.db";
    const char* const other = "01ROLLUPTEST0000000000000B";
    Store store(path);
    store.register_run(kSession, "gone", "localhost", 1, 1.8e12);
    store.register_run(other, "kept", "localhost", 2, 1.8e12);
    std::int64_t gone = store.series_id(kSession, 0, "train/loss");
    std::int64_t kept = store.series_id(other, 0, "train/loss");
    CommitBatch batch;
    for (std::int64_t s = 0; s < 5000; ++s) {
        batch.points.push_back({gone, s, t_us(s), static_cast<double>(s % 17)});
        batch.points.push_back({kept, s, t_us(s), static_cast<double>(s % 19)});
    }
    store.commit(batch);
    ASSERT_GT(rollup_rows(path, gone), 0);
    std::int64_t kept_rows = rollup_rows(path, kept);
    ASSERT_TRUE(store.delete_run(kSession));
    EXPECT_EQ(rollup_rows(path, gone), 0);
    EXPECT_EQ(rollup_rows(path, kept), kept_rows);
    {
        Db db(path, true);
        Stmt orphans(db, "SELECT COUNT(*) FROM rollups WHERE series_id NOT IN (SELECT id FROM series)");
        orphans.step();
        EXPECT_EQ(orphans.int64(0), 0);
    }
    // The run logged again under the same id starts from nothing; the kept one goes on.
    store.register_run(kSession, "again", "localhost", 3, 1.9e12);
    std::int64_t again = store.series_id(kSession, 0, "train/loss");
    batch.points.clear();
    for (std::int64_t s = 4000; s < 6000; ++s) {
        batch.points.push_back({again, s, t_us(s), 1.0});
        batch.points.push_back({kept, s, t_us(s), 2.0});
    }
    store.commit(batch);
    EXPECT_TRUE(rollups_match_points(path, again));
    EXPECT_TRUE(rollups_match_points(path, kept));
}

}  // namespace
}  // namespace trainscope::agent
