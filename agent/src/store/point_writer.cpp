#include "store/point_writer.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace trainscope::agent {

// 64: an index row per 64 points costs a few % of ingest over one per 256 (store_bench,
// BM_heap_cap64) and cuts the rows a read scans at each edge of its range by 4.
const std::int64_t PointWriter::kRowsPerChunk = 64;

namespace {

constexpr const char* kModule = "point_batch";
/// Flushed at this many buffered points even within one series (a migration's 10 M-point
/// series stays 2 MB of buffer).
constexpr std::size_t kMaxRun = 65536;

// `point_batch`: an eponymous virtual table whose rows are the writer's buffer, read once by
// the INSERT ... SELECT in write_run.
struct BatchTable {
    sqlite3_vtab base;
    const std::vector<PointWriter::Row>* rows;
};
struct BatchCursor {
    sqlite3_vtab_cursor base;
    const std::vector<PointWriter::Row>* rows;
    std::size_t i;
};

int batch_connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(seq INTEGER, step INTEGER, t_us INTEGER, value REAL)");
    if (rc != SQLITE_OK) return rc;
    auto* table = new BatchTable{};
    table->rows = static_cast<const std::vector<PointWriter::Row>*>(aux);
    *out = &table->base;
    return SQLITE_OK;
}
int batch_disconnect(sqlite3_vtab* table) {
    delete reinterpret_cast<BatchTable*>(table);
    return SQLITE_OK;
}
int batch_best_index(sqlite3_vtab*, sqlite3_index_info* info) {
    info->estimatedCost = 1;  // one full scan is all it offers
    return SQLITE_OK;
}
int batch_open(sqlite3_vtab* table, sqlite3_vtab_cursor** out) {
    auto* cursor = new BatchCursor{};
    cursor->rows = reinterpret_cast<BatchTable*>(table)->rows;
    *out = &cursor->base;
    return SQLITE_OK;
}
int batch_close(sqlite3_vtab_cursor* cursor) {
    delete reinterpret_cast<BatchCursor*>(cursor);
    return SQLITE_OK;
}
int batch_filter(sqlite3_vtab_cursor* cursor, int, const char*, int, sqlite3_value**) {
    reinterpret_cast<BatchCursor*>(cursor)->i = 0;
    return SQLITE_OK;
}
int batch_next(sqlite3_vtab_cursor* cursor) {
    ++reinterpret_cast<BatchCursor*>(cursor)->i;
    return SQLITE_OK;
}
int batch_eof(sqlite3_vtab_cursor* cursor) {
    auto* c = reinterpret_cast<BatchCursor*>(cursor);
    return c->i >= c->rows->size();
}
int batch_column(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int column) {
    auto* c = reinterpret_cast<BatchCursor*>(cursor);
    const PointWriter::Row& r = (*c->rows)[c->i];
    switch (column) {
        case 0: sqlite3_result_int64(ctx, r.seq); break;
        case 1: sqlite3_result_int64(ctx, r.step); break;
        case 2: sqlite3_result_int64(ctx, r.t_us); break;
        default:
            if (r.value == r.value) sqlite3_result_double(ctx, r.value);
            else sqlite3_result_null(ctx);  // NaN: SQLite has none
    }
    return SQLITE_OK;
}
int batch_rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
    *rowid = static_cast<sqlite3_int64>(reinterpret_cast<BatchCursor*>(cursor)->i);
    return SQLITE_OK;
}
// xCreate null: eponymous-only (usable by its name, never CREATE VIRTUAL TABLE'd into the file).
const sqlite3_module kBatchModule = {
    0,           nullptr,    batch_connect, batch_best_index, batch_disconnect, batch_disconnect,
    batch_open,  batch_close, batch_filter, batch_next,       batch_eof,        batch_column,
    batch_rowid, nullptr,    nullptr,       nullptr,          nullptr,          nullptr,
    nullptr,     nullptr,    nullptr,       nullptr,          nullptr,          nullptr};

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
        throw SqliteError(std::string(sqlite3_errmsg(db)) + " in: " + sql);
    return stmt;
}

}  // namespace

PointWriter::PointWriter(Db& db) : conn_(db), db_(db.handle()) {
    if (sqlite3_create_module_v2(db_, kModule, &kBatchModule, &run_, nullptr) != SQLITE_OK)
        throw SqliteError(std::string("point_batch: ") + sqlite3_errmsg(db_));
    try {
        rows_ = prepare(db_,
                        "INSERT INTO point_rows(seq, step, t_us, value) "
                        "SELECT seq, step, t_us, value FROM point_batch");
        chunk_ = prepare(db_,
                         "INSERT INTO point_chunks(series_id, first_seq, last_seq, first_row, last_row) "
                         "VALUES (?,?,?,?,?)");
    } catch (...) {
        sqlite3_finalize(rows_);
        sqlite3_create_module_v2(db_, kModule, nullptr, nullptr, nullptr);
        throw;
    }
}

PointWriter::~PointWriter() {
    sqlite3_finalize(rows_);
    sqlite3_finalize(chunk_);
    sqlite3_create_module_v2(db_, kModule, nullptr, nullptr, nullptr);  // drops it
}

void PointWriter::insert(std::int64_t seq, const PendingPoint& p) {
    if (!run_.empty() && (p.series_id != series_ || run_.size() == kMaxRun)) write_run();
    series_ = p.series_id;
    run_.push_back(Row{seq, p.step, p.t_us, p.value});
}

void PointWriter::finish() {
    if (!run_.empty()) write_run();
}

void PointWriter::write_run() {
    const std::int64_t series = series_, n = static_cast<std::int64_t>(run_.size());
    const std::int64_t first_seq = run_.front().seq;
    const std::int64_t last_chunk_seq = run_[static_cast<std::size_t>((n - 1) / kRowsPerChunk * kRowsPerChunk)].seq;
    const std::int64_t last_rows = append_run();
    Tail& tail = tails_[series];
    if (n >= kRowsPerChunk) {
        // Full index rows: the tail is its last one, if partial (older small ones stay).
        tail = last_rows < kRowsPerChunk ? Tail{last_chunk_seq, last_rows, 1} : Tail{};
    } else {
        if (tail.chunks == 0) tail.first_seq = first_seq;
        tail.rows += n;
        ++tail.chunks;
    }
    if (tail.chunks >= 2 && tail.rows >= kRowsPerChunk) {
        Tail moved = tail;
        tail = Tail{};
        compact(series, moved);
    }
    if (tail.chunks == 0) tails_.erase(series);
}

std::int64_t PointWriter::append_run() {
    int rc = sqlite3_step(rows_);
    sqlite3_reset(rows_);
    if (rc != SQLITE_DONE) throw SqliteError(sqlite3_errmsg(db_));
    const auto n = static_cast<std::int64_t>(run_.size());
    if (sqlite3_changes64(db_) != n) throw SqliteError("point_rows: fewer rows appended than given");
    // One statement appends at max(rowid) + 1 row after row: the run's rowids are contiguous
    // and end at the last one it inserted.
    const std::int64_t first_row = sqlite3_last_insert_rowid(db_) - n + 1;
    std::int64_t last_rows = 0;
    for (std::int64_t k = 0; k < n; k += kRowsPerChunk) {
        std::int64_t last = std::min(n, k + kRowsPerChunk) - 1;
        sqlite3_bind_int64(chunk_, 1, series_);
        sqlite3_bind_int64(chunk_, 2, run_[static_cast<std::size_t>(k)].seq);
        sqlite3_bind_int64(chunk_, 3, run_[static_cast<std::size_t>(last)].seq);
        sqlite3_bind_int64(chunk_, 4, first_row + k);
        sqlite3_bind_int64(chunk_, 5, first_row + last);
        rc = sqlite3_step(chunk_);
        sqlite3_reset(chunk_);
        if (rc != SQLITE_DONE) throw SqliteError(sqlite3_errmsg(db_));
        last_rows = last - k + 1;
    }
    run_.clear();
    return last_rows;
}

void PointWriter::compact(std::int64_t series, const Tail& tail) {
    // The tail is the series' newest index rows: every one from its first_seq on.
    std::vector<std::pair<std::int64_t, std::int64_t>> spans;
    {
        Stmt rows(conn_,
                  "SELECT c.first_row, c.last_row, p.seq, p.step, p.t_us, p.value FROM point_chunks c "
                  "JOIN point_rows p ON p.rowid BETWEEN c.first_row AND c.last_row "
                  "WHERE c.series_id = ?1 AND c.first_seq >= ?2 ORDER BY c.first_seq, p.rowid");
        rows.bind(1, series).bind(2, tail.first_seq);
        while (rows.step()) {
            if (spans.empty() || spans.back().first != rows.int64(0)) spans.emplace_back(rows.int64(0), rows.int64(1));
            run_.push_back(Row{rows.int64(2), rows.int64(3), rows.int64(4),
                               rows.is_null(5) ? std::numeric_limits<double>::quiet_NaN() : rows.real(5)});
        }
    }
    Stmt drop_rows(conn_, "DELETE FROM point_rows WHERE rowid BETWEEN ? AND ?");
    for (const auto& [first, last] : spans) drop_rows.bind(1, first).bind(2, last).run();
    Stmt drop_chunks(conn_, "DELETE FROM point_chunks WHERE series_id = ?1 AND first_seq >= ?2");
    drop_chunks.bind(1, series).bind(2, tail.first_seq).run();
    series_ = series;
    const std::int64_t n = static_cast<std::int64_t>(run_.size());
    const std::int64_t last_chunk_seq =
        n > 0 ? run_[static_cast<std::size_t>((n - 1) / kRowsPerChunk * kRowsPerChunk)].seq : 0;
    const std::int64_t last_rows = n > 0 ? append_run() : 0;
    if (last_rows > 0 && last_rows < kRowsPerChunk) tails_[series] = Tail{last_chunk_seq, last_rows, 1};
}

void PointWriter::reset() {
    sqlite3_reset(rows_);
    sqlite3_reset(chunk_);
    run_.clear();
    tails_.clear();
}

}  // namespace trainscope::agent
