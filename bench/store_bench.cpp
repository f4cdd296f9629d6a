// store_bench — SQLite ingest rate of the agent's Store (points/s), against the raw C API.
//
// Every variant writes the same rows — (series_id, seq, step, t_us, value) for 16 series
// interleaved point by point, 65,536 points per transaction, as the collector batches them —
// into a fresh database in a temp dir under /tmp, with the agent's pragmas (WAL,
// synchronous=NORMAL). 16 commits (1 Mi points) per repetition.
//
//   BM_store_commit      Store::commit(CommitBatch): what the agent does (one producer update
//                        per batch too, as the collector sends).
//   BM_store_commit_small  the same points one per series per commit (4,096 commits): a
//                        trainer logging slowly; for bytes_per_point and the series read.
//   BM_sqlite_rowid      the baseline: raw sqlite3 C API, one prepared statement, one
//                        transaction, into a plain rowid table with no index — the cheapest
//                        way to put these rows into SQLite.
// Experiments (raw C API), to explain a gap between the two:
//   BM_sqlite_clustered           Store's table (WITHOUT ROWID, primary key (series_id, seq)),
//                                 rows interleaved as they arrive: the schema's cost alone.
//   BM_sqlite_clustered_sorted    the same, batch stably sorted by series before inserting.
//   BM_sqlite_clustered_multirow  the same, interleaved, 64 rows per INSERT statement.
//   BM_sqlite_clustered_pragmas   the same, interleaved, page_size=16384, cache_size=64 MiB.
//   BM_sqlite_rowid_index         a rowid table plus an index on (series_id, seq).
//   BM_rollup_upkeep     the level-of-detail rollups' part of BM_store_commit alone: the
//                        same points through RollupWriter (add, flush, commit) into a fresh
//                        database, to read as a share of Store::commit.
//   BM_sqlite_chunks              a different layout: one row per series per commit, its points
//                                 packed in a blob (seq, step, t_us, value: 32 bytes each), keyed
//                                 (series_id, first_seq) — what time-series stores do.
//   BM_sqlite_sorted_*            sorted by series as Store writes now, with one setting changed
//                                 each: cache 64 MiB, 16/64 KiB pages, auto_vacuum, secure_delete.
//   BM_sqlite_packed_key          sorted, into a rowid table keyed series_id << 40 | seq.
//   BM_heap_*            the append-only layout (docs/ingest.md): rows (seq, step, t_us, value)
//                        appended to a rowid table series by series, plus one index row
//                        (series_id, first_seq, last_seq, first_row, last_row) per run of at
//                        most 256 (`_cap256`), 64 (`_cap64`) or any number (`_uncapped`) of one series' rows;
//                        `_store_work` adds what Store::commit does besides: the rollup upkeep
//                        and one stats UPDATE per touched series, in the same transaction.
// Store and three raw variants also report bytes_per_point (pages in use over points) and
// series_read_ms (one series read back in seq order by a reader connection); docs/ingest.md.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "store/rollups.hpp"
#include "store/store.hpp"

namespace {

using trainscope::agent::PendingPoint;
using trainscope::bench::result;

constexpr int kSeries = 16;
constexpr std::size_t kBatch = 65536;
constexpr int kCommits = 16;

/// A fresh directory under /tmp, removed with everything in it.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/tsbench-store-XXXXXX";
        if (!::mkdtemp(tmpl)) {
            std::perror("mkdtemp");
            std::exit(1);
        }
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const char* name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

/// 16 series interleaved point by point, as a collector pass over a trainer that logs 16
/// metrics per step sees them.
std::vector<PendingPoint> make_points(const std::vector<std::int64_t>& series) {
    std::vector<PendingPoint> points(kBatch);
    for (std::size_t i = 0; i < kBatch; ++i)
        points[i] = PendingPoint{series[i % kSeries], static_cast<std::int64_t>(i / kSeries),
                                 1'800'000'000'000'000 + static_cast<std::int64_t>(i),
                                 1.0 / static_cast<double>(1 + i % 1000)};
    return points;
}

void count_points(benchmark::State& state) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void check(sqlite3* db, int rc, const char* what);

/// Reads back what a variant wrote, through a connection of its own (as the agent's HTTP
/// threads do): counters bytes_per_point (pages in use, points plus every index, over the
/// points stored) and series_read_ms (every row of one series, in seq order — the shape of
/// the agent's series queries). `series_sql` selects one series' rows given its id as ?1.
void measure_file(benchmark::State& state, const std::string& path, const char* series_sql,
                  std::int64_t series) {
    sqlite3* db = nullptr;
    check(db, sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), "open reader");
    auto one = [&](const char* sql) {
        sqlite3_stmt* q = nullptr;
        check(db, sqlite3_prepare_v2(db, sql, -1, &q, nullptr), sql);
        check(db, sqlite3_step(q), sql);
        std::int64_t v = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        return v;
    };
    std::int64_t bytes = (one("PRAGMA page_count") - one("PRAGMA freelist_count")) *
                         one("PRAGMA page_size");
    state.counters["bytes_per_point"] =
        static_cast<double>(bytes) / static_cast<double>(state.iterations() * kBatch);
    sqlite3_stmt* q = nullptr;
    check(db, sqlite3_prepare_v2(db, series_sql, -1, &q, nullptr), series_sql);
    sqlite3_bind_int64(q, 1, series);
    auto start = std::chrono::steady_clock::now();
    std::int64_t rows = 0;
    double sum = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        ++rows;
        sum += sqlite3_column_double(q, 3);
    }
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    benchmark::DoNotOptimize(sum);
    state.counters["series_read_ms"] = took.count();
    state.counters["series_rows"] = static_cast<double>(rows);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

constexpr const char* kSeriesRead =
    "SELECT seq, step, t_us, value FROM points WHERE series_id=?1 ORDER BY seq";
/// The same for the append-only layout, in its index's order: index rows by first_seq, rows
/// by rowid (seq order, no sort), as the agent's readers do (store/point_layout.hpp).
constexpr const char* kHeapSeriesRead =
    "SELECT p.seq, p.step, p.t_us, p.value FROM point_chunks c JOIN point_rows p "
    "ON p.rowid BETWEEN c.first_row AND c.last_row WHERE c.series_id=?1 "
    "ORDER BY c.first_seq, p.rowid";

// ---- the agent's Store -------------------------------------------------------------------

void BM_store_commit(benchmark::State& state) {
    TempDir dir;
    trainscope::agent::Store store(dir.file("trainscope.db"));
    const std::string session = "01BENCHSTORE0000000000000";
    store.register_run(session, "store_bench", "localhost", ::getpid(), 1.8e12);
    trainscope::agent::ProducerKey key{"tsbench.1.0", ::getpid(), 1};
    store.producer_consumed(key, session, 0, 1);
    std::vector<std::int64_t> series;
    for (int s = 0; s < kSeries; ++s)
        series.push_back(store.series_id(session, 0, "bench/m" + std::to_string(s)));

    trainscope::agent::CommitBatch batch;
    batch.points = make_points(series);
    std::uint64_t consumed = 0;
    for (auto _ : state) {
        consumed += kBatch;
        batch.producers = {trainscope::agent::ProducerUpdate{key, 0}};
        batch.lanes = {trainscope::agent::LaneUpdate{key, 1, consumed}};
        auto updates = store.commit(batch);
        benchmark::DoNotOptimize(updates.data());
    }
    count_points(state);
    measure_file(state, dir.file("trainscope.db"), kHeapSeriesRead, series[kSeries / 2]);
}

/// A trainer logging slowly: the same 65,536 points, one per series per commit (the collector
/// commits every few ms), for the file's bytes per point and the reads after small commits.
void BM_store_commit_small(benchmark::State& state) {
    TempDir dir;
    trainscope::agent::Store store(dir.file("trainscope.db"));
    const std::string session = "01BENCHSTORE0000000000000";
    store.register_run(session, "store_bench", "localhost", ::getpid(), 1.8e12);
    std::vector<std::int64_t> series;
    for (int s = 0; s < kSeries; ++s)
        series.push_back(store.series_id(session, 0, "bench/m" + std::to_string(s)));
    const std::vector<PendingPoint> points = make_points(series);
    trainscope::agent::CommitBatch batch;
    for (auto _ : state) {
        for (std::size_t first = 0; first < kBatch; first += kSeries) {
            batch.points.assign(points.begin() + static_cast<std::ptrdiff_t>(first),
                                points.begin() + static_cast<std::ptrdiff_t>(first + kSeries));
            store.commit(batch);
        }
    }
    count_points(state);
    measure_file(state, dir.file("trainscope.db"), kHeapSeriesRead, series[kSeries / 2]);
}

void BM_rollup_upkeep(benchmark::State& state) {
    TempDir dir;
    trainscope::agent::Db db(dir.file("trainscope.db"));
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL");
    trainscope::agent::RollupWriter::create_table(db);
    trainscope::agent::RollupWriter rollups(db);
    std::vector<std::int64_t> series;
    for (int s = 0; s < kSeries; ++s) series.push_back(s + 1);
    std::vector<PendingPoint> points = make_points(series);
    std::int64_t seq = 0, step_base = 0;
    for (auto _ : state) {
        trainscope::agent::Transaction tx(db);
        for (const PendingPoint& p : points)
            rollups.add(p.series_id, trainscope::agent::StoredPoint{++seq, step_base + p.step,
                                                                    static_cast<double>(p.t_us) / 1000.0, p.value});
        rollups.flush();
        tx.commit();
        step_base += kBatch / kSeries;  // the next batch's steps follow on, as a trainer's do
    }
    count_points(state);
}

// ---- raw sqlite3 C API -------------------------------------------------------------------

enum class Variant {
    rowid,
    clustered,
    clustered_sorted,
    clustered_multirow,
    clustered_pragmas,
    rowid_index,
    chunks,
    sorted_cache,     // sorted, cache_size 64 MiB
    sorted_16k,       // sorted, 16 KiB pages, cache 64 MiB
    sorted_64k,       // sorted, 64 KiB pages, cache 64 MiB
    sorted_autovac,   // sorted, auto_vacuum=INCREMENTAL as the agent's file
    sorted_fast_delete,  // sorted, secure_delete=OFF (Debian's SQLite zeroes freed space)
    packed_key,       // sorted, rowid table keyed by series_id << 40 | seq (no series_id/seq columns)
};
bool sorted(Variant v) {
    return v == Variant::clustered_sorted || v == Variant::chunks || v == Variant::sorted_cache ||
           v == Variant::sorted_16k || v == Variant::sorted_64k || v == Variant::sorted_autovac ||
           v == Variant::packed_key || v == Variant::sorted_fast_delete;
}

void check(sqlite3* db, int rc, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        std::fprintf(stderr, "store_bench: %s: %s\n", what, sqlite3_errmsg(db));
        std::exit(1);
    }
}
void exec(sqlite3* db, const char* sql) {
    check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql);
}

/// A point and the seq Store would give it.
struct Row {
    PendingPoint p;
    std::int64_t seq;
};

/// One INSERT per run of same-series rows (rows are sorted by series): the points packed
/// as 32-byte (seq, step, t_us, value) records in a blob.
void insert_chunks(sqlite3* db, sqlite3_stmt* insert, const std::vector<Row>& rows,
                   std::vector<unsigned char>& blob) {
    for (std::size_t i = 0; i < rows.size();) {
        std::size_t j = i;
        while (j < rows.size() && rows[j].p.series_id == rows[i].p.series_id) ++j;
        blob.resize((j - i) * 32);
        unsigned char* out = blob.data();
        for (std::size_t k = i; k < j; ++k, out += 32) {
            std::memcpy(out, &rows[k].seq, 8);
            std::memcpy(out + 8, &rows[k].p.step, 8);
            std::memcpy(out + 16, &rows[k].p.t_us, 8);
            std::memcpy(out + 24, &rows[k].p.value, 8);
        }
        sqlite3_bind_int64(insert, 1, rows[i].p.series_id);
        sqlite3_bind_int64(insert, 2, rows[i].seq);
        sqlite3_bind_int64(insert, 3, rows[j - 1].seq);
        sqlite3_bind_int64(insert, 4, static_cast<std::int64_t>(j - i));
        sqlite3_bind_blob(insert, 5, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
        check(db, sqlite3_step(insert), "insert chunk");
        sqlite3_reset(insert);
        i = j;
    }
}

void BM_sqlite(benchmark::State& state, Variant v) {
    TempDir dir;
    sqlite3* db = nullptr;
    check(db, sqlite3_open(dir.file("raw.db").c_str(), &db), "open");
    if (v == Variant::clustered_pragmas || v == Variant::sorted_16k)
        exec(db, "PRAGMA page_size=16384");  // before any table
    if (v == Variant::sorted_64k) exec(db, "PRAGMA page_size=65536");
    if (v == Variant::sorted_autovac) exec(db, "PRAGMA auto_vacuum=INCREMENTAL");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=NORMAL");
    if (v == Variant::sorted_fast_delete) exec(db, "PRAGMA secure_delete=OFF");
    if (v == Variant::clustered_pragmas || v == Variant::sorted_cache || v == Variant::sorted_16k ||
        v == Variant::sorted_64k)
        exec(db, "PRAGMA cache_size=-65536");
    if (v == Variant::chunks)
        exec(db,
             "CREATE TABLE chunks(series_id INTEGER NOT NULL, first_seq INTEGER NOT NULL, "
             "last_seq INTEGER NOT NULL, n INTEGER NOT NULL, points BLOB NOT NULL, "
             "PRIMARY KEY (series_id, first_seq)) WITHOUT ROWID");
    else if (v == Variant::packed_key)
        exec(db,
             "CREATE TABLE points(id INTEGER PRIMARY KEY, step INTEGER NOT NULL, "
             "t_us INTEGER NOT NULL, value REAL)");
    else if (v == Variant::rowid || v == Variant::rowid_index)
        exec(db,
             "CREATE TABLE points(series_id INTEGER NOT NULL, seq INTEGER NOT NULL, "
             "step INTEGER NOT NULL, t_us INTEGER NOT NULL, value REAL)");
    else  // Store's own table (store.cpp)
        exec(db,
             "CREATE TABLE points(series_id INTEGER NOT NULL, seq INTEGER NOT NULL, "
             "step INTEGER NOT NULL, t_us INTEGER NOT NULL, value REAL, "
             "PRIMARY KEY (series_id, seq)) WITHOUT ROWID");
    if (v == Variant::rowid_index) exec(db, "CREATE INDEX points_series ON points(series_id, seq)");

    const int rows_per_stmt = v == Variant::clustered_multirow ? 64 : 1;
    std::string sql =
        v == Variant::packed_key ? "INSERT INTO points(id, step, t_us, value) VALUES (?,?,?,?)"
        : v == Variant::chunks
            ? "INSERT INTO chunks(series_id, first_seq, last_seq, n, points) VALUES (?,?,?,?,?)"
            : "INSERT INTO points(series_id, seq, step, t_us, value) VALUES (?,?,?,?,?)";
    for (int r = 1; r < rows_per_stmt; ++r) sql += ",(?,?,?,?,?)";
    sqlite3_stmt* insert = nullptr;
    check(db, sqlite3_prepare_v2(db, sql.c_str(), -1, &insert, nullptr), "prepare");

    std::vector<std::int64_t> series;
    for (int s = 0; s < kSeries; ++s) series.push_back(s + 1);
    const std::vector<PendingPoint> points = make_points(series);
    std::vector<Row> rows(kBatch);
    std::vector<unsigned char> blob;
    std::int64_t seq = 0;
    for (auto _ : state) {
        // seq is given in arrival order, as Store does; sorting (if any) comes after.
        for (std::size_t i = 0; i < kBatch; ++i) rows[i] = Row{points[i], ++seq};
        if (sorted(v))
            std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
                return a.p.series_id < b.p.series_id;
            });
        exec(db, "BEGIN IMMEDIATE");
        if (v == Variant::chunks) insert_chunks(db, insert, rows, blob);
        for (std::size_t i = 0; v == Variant::packed_key && i < kBatch; ++i) {
            sqlite3_bind_int64(insert, 1, rows[i].p.series_id << 40 | rows[i].seq);
            sqlite3_bind_int64(insert, 2, rows[i].p.step);
            sqlite3_bind_int64(insert, 3, rows[i].p.t_us);
            sqlite3_bind_double(insert, 4, rows[i].p.value);
            check(db, sqlite3_step(insert), "insert");
            sqlite3_reset(insert);
        }
        for (std::size_t i = 0; v != Variant::chunks && v != Variant::packed_key && i < kBatch;
             i += rows_per_stmt) {
            for (int r = 0; r < rows_per_stmt; ++r) {
                const Row& row = rows[i + r];
                int b = r * 5;
                sqlite3_bind_int64(insert, b + 1, row.p.series_id);
                sqlite3_bind_int64(insert, b + 2, row.seq);
                sqlite3_bind_int64(insert, b + 3, row.p.step);
                sqlite3_bind_int64(insert, b + 4, row.p.t_us);
                sqlite3_bind_double(insert, b + 5, row.p.value);
            }
            check(db, sqlite3_step(insert), "insert");
            sqlite3_reset(insert);
        }
        exec(db, "COMMIT");
    }
    sqlite3_finalize(insert);
    sqlite3_close(db);
    count_points(state);
    if (v == Variant::rowid_index || v == Variant::clustered || v == Variant::clustered_sorted ||
        v == Variant::rowid)
        measure_file(state, dir.file("raw.db"), kSeriesRead, kSeries / 2 + 1);
}


// ---- the append-only heap layout (raw C API plus Store's other per-commit work) -----------

struct HeapVariant {
    std::size_t cap;   ///< most rows per index row (0: one per series per commit)
    bool store_work;   ///< + rollup upkeep and the per-series stats UPDATE
};

void BM_heap(benchmark::State& state, HeapVariant v) {
    TempDir dir;
    trainscope::agent::Db adb(dir.file("heap.db"));
    sqlite3* db = adb.handle();
    exec(db, "PRAGMA auto_vacuum=INCREMENTAL");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=NORMAL");
    exec(db,
         "CREATE TABLE point_rows(seq INTEGER NOT NULL, step INTEGER NOT NULL, "
         "t_us INTEGER NOT NULL, value REAL)");
    exec(db,
         "CREATE TABLE point_chunks(series_id INTEGER NOT NULL, first_seq INTEGER NOT NULL, "
         "last_seq INTEGER NOT NULL, first_row INTEGER NOT NULL, last_row INTEGER NOT NULL, "
         "PRIMARY KEY (series_id, first_seq)) WITHOUT ROWID");
    exec(db,
         "CREATE VIEW points AS SELECT c.series_id, p.seq, p.step, p.t_us, p.value "
         "FROM point_chunks c JOIN point_rows p ON p.rowid BETWEEN c.first_row AND c.last_row");
    exec(db,
         "CREATE TABLE series(id INTEGER PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, "
         "min_step INTEGER, max_step INTEGER, steps_ordered INTEGER NOT NULL DEFAULT 1)");
    for (int s = 1; s <= kSeries; ++s) exec(db, ("INSERT INTO series(id) VALUES (" + std::to_string(s) + ")").c_str());
    trainscope::agent::RollupWriter::create_table(adb);
    trainscope::agent::RollupWriter rollups(adb);
    sqlite3_stmt *row = nullptr, *chunk = nullptr, *stats = nullptr;
    check(db, sqlite3_prepare_v3(db, "INSERT INTO point_rows(seq, step, t_us, value) VALUES (?,?,?,?)",
                                 -1, SQLITE_PREPARE_PERSISTENT, &row, nullptr), "prepare row");
    check(db, sqlite3_prepare_v3(db, "INSERT INTO point_chunks VALUES (?,?,?,?,?)", -1,
                                 SQLITE_PREPARE_PERSISTENT, &chunk, nullptr), "prepare chunk");
    check(db, sqlite3_prepare_v3(db,
                                 "UPDATE series SET points=points+?1, min_step=MIN(COALESCE(min_step,?2),?2), "
                                 "max_step=MAX(COALESCE(max_step,?3),?3), steps_ordered = steps_ordered AND ?5 "
                                 "AND (max_step IS NULL OR ?6 >= max_step) WHERE id=?4",
                                 -1, SQLITE_PREPARE_PERSISTENT, &stats, nullptr), "prepare stats");

    std::vector<std::int64_t> series;
    for (int s = 0; s < kSeries; ++s) series.push_back(s + 1);
    const std::vector<PendingPoint> points = make_points(series);
    std::vector<Row> rows(kBatch);
    std::int64_t seq = 0, step_base = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBatch; ++i) rows[i] = Row{points[i], ++seq};
        for (Row& r : rows) r.p.step += step_base;
        std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            return a.p.series_id < b.p.series_id;
        });
        exec(db, "BEGIN IMMEDIATE");
        for (std::size_t i = 0; i < kBatch;) {
            std::size_t end = i;
            while (end < kBatch && rows[end].p.series_id == rows[i].p.series_id &&
                   (v.cap == 0 || end - i < v.cap))
                ++end;
            for (std::size_t k = i; k < end; ++k) {
                sqlite3_bind_int64(row, 1, rows[k].seq);
                sqlite3_bind_int64(row, 2, rows[k].p.step);
                sqlite3_bind_int64(row, 3, rows[k].p.t_us);
                sqlite3_bind_double(row, 4, rows[k].p.value);
                check(db, sqlite3_step(row), "insert row");
                sqlite3_reset(row);
            }
            std::int64_t last_row = sqlite3_last_insert_rowid(db);
            sqlite3_bind_int64(chunk, 1, rows[i].p.series_id);
            sqlite3_bind_int64(chunk, 2, rows[i].seq);
            sqlite3_bind_int64(chunk, 3, rows[end - 1].seq);
            sqlite3_bind_int64(chunk, 4, last_row - static_cast<std::int64_t>(end - i) + 1);
            sqlite3_bind_int64(chunk, 5, last_row);
            check(db, sqlite3_step(chunk), "insert chunk");
            sqlite3_reset(chunk);
            i = end;
        }
        if (v.store_work) {
            for (std::size_t i = 0; i < kBatch;) {
                std::size_t end = i;
                std::int64_t lo = rows[i].p.step, hi = lo;
                bool ordered = true;
                for (; end < kBatch && rows[end].p.series_id == rows[i].p.series_id; ++end) {
                    if (end > i && rows[end].p.step < rows[end - 1].p.step) ordered = false;
                    lo = std::min(lo, rows[end].p.step);
                    hi = std::max(hi, rows[end].p.step);
                    rollups.add(rows[end].p.series_id,
                                trainscope::agent::StoredPoint{rows[end].seq, rows[end].p.step,
                                                               static_cast<double>(rows[end].p.t_us) / 1000.0,
                                                               rows[end].p.value});
                }
                sqlite3_bind_int64(stats, 1, static_cast<std::int64_t>(end - i));
                sqlite3_bind_int64(stats, 2, lo);
                sqlite3_bind_int64(stats, 3, hi);
                sqlite3_bind_int64(stats, 4, rows[i].p.series_id);
                sqlite3_bind_int64(stats, 5, ordered ? 1 : 0);
                sqlite3_bind_int64(stats, 6, rows[i].p.step);
                check(db, sqlite3_step(stats), "stats");
                sqlite3_reset(stats);
                i = end;
            }
            rollups.flush();
        }
        exec(db, "COMMIT");
        step_base += kBatch / kSeries;
    }
    sqlite3_finalize(row);
    sqlite3_finalize(chunk);
    sqlite3_finalize(stats);
    count_points(state);
    measure_file(state, dir.file("heap.db"), kHeapSeriesRead, kSeries / 2 + 1);
}

// ---- the same heap, its rows handed to SQLite through a virtual table --------------------
// One INSERT ... SELECT per run of a series' rows instead of one bound INSERT per row: the
// statement's per-execution work (cursor open, seek to the table's end, API entry, reset) is
// paid once per run, not per row.

struct BatchSource {
    const Row* rows = nullptr;
    std::size_t begin = 0, end = 0;
};
struct BatchVtab {
    sqlite3_vtab base;
    BatchSource* src;
};
struct BatchCursor {
    sqlite3_vtab_cursor base;
    BatchSource* src;
    std::size_t i;
};

int batch_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(seq INTEGER, step INTEGER, t_us INTEGER, value REAL)");
    if (rc != SQLITE_OK) return rc;
    auto* v = new BatchVtab{};
    v->src = static_cast<BatchSource*>(aux);
    *out = &v->base;
    return SQLITE_OK;
}
int batch_disconnect(sqlite3_vtab* v) {
    delete reinterpret_cast<BatchVtab*>(v);
    return SQLITE_OK;
}
int batch_best_index(sqlite3_vtab*, sqlite3_index_info* info) {
    info->estimatedCost = 1;
    return SQLITE_OK;
}
int batch_open(sqlite3_vtab* v, sqlite3_vtab_cursor** out) {
    auto* c = new BatchCursor{};
    c->src = reinterpret_cast<BatchVtab*>(v)->src;
    *out = &c->base;
    return SQLITE_OK;
}
int batch_close(sqlite3_vtab_cursor* c) {
    delete reinterpret_cast<BatchCursor*>(c);
    return SQLITE_OK;
}
int batch_filter(sqlite3_vtab_cursor* cur, int, const char*, int, sqlite3_value**) {
    auto* c = reinterpret_cast<BatchCursor*>(cur);
    c->i = c->src->begin;
    return SQLITE_OK;
}
int batch_next(sqlite3_vtab_cursor* cur) {
    ++reinterpret_cast<BatchCursor*>(cur)->i;
    return SQLITE_OK;
}
int batch_eof(sqlite3_vtab_cursor* cur) {
    auto* c = reinterpret_cast<BatchCursor*>(cur);
    return c->i >= c->src->end;
}
int batch_column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
    auto* c = reinterpret_cast<BatchCursor*>(cur);
    const Row& r = c->src->rows[c->i];
    switch (col) {
        case 0: sqlite3_result_int64(ctx, r.seq); break;
        case 1: sqlite3_result_int64(ctx, r.p.step); break;
        case 2: sqlite3_result_int64(ctx, r.p.t_us); break;
        default:
            if (r.p.value == r.p.value) sqlite3_result_double(ctx, r.p.value);
            else sqlite3_result_null(ctx);
    }
    return SQLITE_OK;
}
int batch_rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
    *rowid = static_cast<sqlite3_int64>(reinterpret_cast<BatchCursor*>(cur)->i);
    return SQLITE_OK;
}
const sqlite3_module kBatchModule = {
    0, nullptr, batch_connect, batch_best_index, batch_disconnect, batch_disconnect, batch_open,
    batch_close, batch_filter, batch_next, batch_eof, batch_column, batch_rowid,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

void BM_heap_vtab(benchmark::State& state) {
    TempDir dir;
    sqlite3* db = nullptr;
    check(db, sqlite3_open(dir.file("heap.db").c_str(), &db), "open");
    exec(db, "PRAGMA auto_vacuum=INCREMENTAL");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=NORMAL");
    exec(db,
         "CREATE TABLE point_rows(seq INTEGER NOT NULL, step INTEGER NOT NULL, "
         "t_us INTEGER NOT NULL, value REAL)");
    exec(db,
         "CREATE TABLE point_chunks(series_id INTEGER NOT NULL, first_seq INTEGER NOT NULL, "
         "last_seq INTEGER NOT NULL, first_row INTEGER NOT NULL, last_row INTEGER NOT NULL, "
         "PRIMARY KEY (series_id, first_seq)) WITHOUT ROWID");
    BatchSource src;
    check(db, sqlite3_create_module_v2(db, "point_batch", &kBatchModule, &src, nullptr), "module");
    sqlite3_stmt *insert = nullptr, *chunk = nullptr;
    check(db, sqlite3_prepare_v3(db,
                                 "INSERT INTO point_rows(seq, step, t_us, value) "
                                 "SELECT seq, step, t_us, value FROM point_batch",
                                 -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr), "prepare insert");
    check(db, sqlite3_prepare_v3(db, "INSERT INTO point_chunks VALUES (?,?,?,?,?)", -1,
                                 SQLITE_PREPARE_PERSISTENT, &chunk, nullptr), "prepare chunk");
    std::vector<std::int64_t> series;
    for (int s = 0; s < kSeries; ++s) series.push_back(s + 1);
    const std::vector<PendingPoint> points = make_points(series);
    std::vector<Row> rows(kBatch);
    std::int64_t seq = 0;
    constexpr std::size_t kCap = 64;
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBatch; ++i) rows[i] = Row{points[i], ++seq};
        std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            return a.p.series_id < b.p.series_id;
        });
        src.rows = rows.data();
        exec(db, "BEGIN IMMEDIATE");
        for (std::size_t i = 0; i < kBatch;) {
            std::size_t end = i;
            while (end < kBatch && rows[end].p.series_id == rows[i].p.series_id) ++end;
            src.begin = i;
            src.end = end;
            check(db, sqlite3_step(insert), "insert rows");
            sqlite3_reset(insert);
            std::int64_t first_row = sqlite3_last_insert_rowid(db) - static_cast<std::int64_t>(end - i) + 1;
            for (std::size_t k = i; k < end; k += kCap) {
                std::size_t last = std::min(end, k + kCap) - 1;
                sqlite3_bind_int64(chunk, 1, rows[k].p.series_id);
                sqlite3_bind_int64(chunk, 2, rows[k].seq);
                sqlite3_bind_int64(chunk, 3, rows[last].seq);
                sqlite3_bind_int64(chunk, 4, first_row + static_cast<std::int64_t>(k - i));
                sqlite3_bind_int64(chunk, 5, first_row + static_cast<std::int64_t>(last - i));
                check(db, sqlite3_step(chunk), "insert chunk");
                sqlite3_reset(chunk);
            }
            i = end;
        }
        exec(db, "COMMIT");
    }
    sqlite3_finalize(insert);
    sqlite3_finalize(chunk);
    sqlite3_close(db);
    count_points(state);
    measure_file(state, dir.file("heap.db"), kHeapSeriesRead, kSeries / 2 + 1);
}

void shape(benchmark::internal::Benchmark* b) {
    b->Iterations(kCommits)->UseRealTime();
}

void register_all() {
    benchmark::RegisterBenchmark("BM_store_commit", BM_store_commit)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_rowid", BM_sqlite, Variant::rowid)->Apply(shape);
    benchmark::RegisterBenchmark("BM_store_commit_small", BM_store_commit_small)->Iterations(1)->UseRealTime();
    benchmark::RegisterBenchmark("BM_rollup_upkeep", BM_rollup_upkeep)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_clustered", BM_sqlite, Variant::clustered)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_clustered_sorted", BM_sqlite, Variant::clustered_sorted)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_clustered_multirow", BM_sqlite,
                                 Variant::clustered_multirow)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_clustered_pragmas", BM_sqlite,
                                 Variant::clustered_pragmas)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_rowid_index", BM_sqlite, Variant::rowid_index)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_chunks", BM_sqlite, Variant::chunks)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_sorted_cache", BM_sqlite, Variant::sorted_cache)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_sorted_16k", BM_sqlite, Variant::sorted_16k)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_sorted_64k", BM_sqlite, Variant::sorted_64k)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_sorted_autovac", BM_sqlite, Variant::sorted_autovac)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_sorted_fast_delete", BM_sqlite, Variant::sorted_fast_delete)->Apply(shape);
    benchmark::RegisterBenchmark("BM_sqlite_packed_key", BM_sqlite, Variant::packed_key)->Apply(shape);
    benchmark::RegisterBenchmark("BM_heap_cap256", BM_heap, HeapVariant{256, false})->Apply(shape);
    benchmark::RegisterBenchmark("BM_heap_cap64", BM_heap, HeapVariant{64, false})->Apply(shape);
    benchmark::RegisterBenchmark("BM_heap_uncapped", BM_heap, HeapVariant{0, false})->Apply(shape);
    benchmark::RegisterBenchmark("BM_heap_vtab", BM_heap_vtab)->Apply(shape);
    benchmark::RegisterBenchmark("BM_heap_cap256_store_work", BM_heap, HeapVariant{256, true})->Apply(shape);
}

void summary(const trainscope::bench::SummaryReporter& rep) {
    // Points per second from wall time (what the agent sustains, disk included) and from the
    // CPU time of the committing thread (the rate with a core to itself and a fast disk).
    auto wall = [&](const char* fn) {
        double ns = rep.real(fn);
        return ns <= 0 ? -1 : kBatch / ns * 1e3;
    };
    auto cpu = [&](const char* fn) {
        double ns = rep.cpu(fn);
        return ns <= 0 ? -1 : kBatch / ns * 1e3;
    };
    const char* rows[][2] = {
        {"Store::commit", "BM_store_commit"},
        {"Store::commit, 16 points per commit", "BM_store_commit_small"},
        {"raw C API, rowid table (baseline)", "BM_sqlite_rowid"},
        {"raw, Store's clustered table", "BM_sqlite_clustered"},
        {"raw, clustered, sorted by series", "BM_sqlite_clustered_sorted"},
        {"raw, clustered, 64-row INSERT", "BM_sqlite_clustered_multirow"},
        {"raw, clustered, 16K pages + 64M cache", "BM_sqlite_clustered_pragmas"},
        {"raw, rowid table + index", "BM_sqlite_rowid_index"},
        {"raw, one blob row per series per commit", "BM_sqlite_chunks"},
        {"raw, sorted, 64M cache", "BM_sqlite_sorted_cache"},
        {"raw, sorted, 16K pages, 64M cache", "BM_sqlite_sorted_16k"},
        {"raw, sorted, 64K pages, 64M cache", "BM_sqlite_sorted_64k"},
        {"raw, sorted, auto_vacuum=INCREMENTAL", "BM_sqlite_sorted_autovac"},
        {"raw, sorted, secure_delete=OFF", "BM_sqlite_sorted_fast_delete"},
        {"raw, sorted, rowid = series_id<<40|seq", "BM_sqlite_packed_key"},
        {"heap + index row per 256 rows", "BM_heap_cap256"},
        {"heap + index row per 64 rows", "BM_heap_cap64"},
        {"heap + index row per series per commit", "BM_heap_uncapped"},
        {"heap/64, rows through a virtual table", "BM_heap_vtab"},
        {"heap/256 + rollups + stats UPDATE", "BM_heap_cap256_store_work"}};
    std::printf(
        "\nSummary: median M points/s (16 series interleaved, %zu points per commit), load %s\n",
        kBatch, trainscope::bench::load_average().c_str());
    std::printf("  %-40s %8s %8s %12s %9s %14s\n", "variant", "wall", "cpu", "cpu x Store",
                "bytes/pt", "series read ms");
    double store_cpu = cpu("BM_store_commit");
    for (auto& r : rows) {
        if (wall(r[1]) <= 0) continue;
        std::printf("  %-40s %8.3f %8.3f %12.2f", r[0], wall(r[1]), cpu(r[1]),
                    store_cpu > 0 ? cpu(r[1]) / store_cpu : 0.0);
        double bytes = rep.counter(r[1], "bytes_per_point");
        if (bytes > 0)
            std::printf(" %9.1f %14.1f", bytes, rep.counter(r[1], "series_read_ms"));
        std::printf("\n");
    }
    std::printf("  (series read: one series' %.0f points written interleaved with 15 others, in seq "
                "order, by a reader connection)\n",
                rep.counter("BM_store_commit", "series_rows"));
    double store = wall("BM_store_commit"), raw = wall("BM_sqlite_rowid");
    double raw_cpu = cpu("BM_sqlite_rowid");
    if (store > 0) {
        // Issue 15's goal: 1.5 M/s with rollups (Store::commit keeps them), <= 40 bytes/point.
        // On a shared 2-core machine the CPU rate is the one to judge (docs/ingest.md).
        std::printf(
            "Goal: Store ingest >= 1.5 M points/s with rollups: %.3f M/s wall, %.3f M/s "
            "cpu-bound (%.2fx the raw rowid baseline wall, %.2fx cpu), %.1f bytes/point  %s\n",
            store, store_cpu, raw > 0 ? store / raw : 0.0, raw_cpu > 0 ? store_cpu / raw_cpu : 0.0,
            rep.counter("BM_store_commit", "bytes_per_point"), store_cpu >= 1.5 ? "PASS (cpu)" : "MISS");
        result("store_mpps", store);
        result("store_cpu_mpps", store_cpu);
        result("store_bytes_per_point", rep.counter("BM_store_commit", "bytes_per_point"));
        result("store_series_read_ms", rep.counter("BM_store_commit", "series_read_ms"));
    }
    if (double upkeep = cpu("BM_rollup_upkeep"); upkeep > 0 && store_cpu > 0) {
        // Store::commit includes the upkeep: its share of the commit's CPU time.
        std::printf("Rollup upkeep alone: %.3f M points/s cpu, %.0f%% of Store::commit's cpu time\n", upkeep,
                    100.0 * store_cpu / upkeep);
        result("rollup_upkeep_cpu_mpps", upkeep);
        result("rollup_upkeep_share_pct", 100.0 * store_cpu / upkeep);
    }
    if (raw > 0) {
        result("sqlite_rowid_mpps", raw);
        result("sqlite_rowid_cpu_mpps", cpu("BM_sqlite_rowid"));
    }
    for (auto& r : rows) {
        std::string key = std::string(r[1] + 3) + "_cpu_mpps";
        if (cpu(r[1]) > 0) result(key.c_str(), cpu(r[1]));
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    return trainscope::bench::run_main(
        argc, argv, {"--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true"},
        summary);
}
