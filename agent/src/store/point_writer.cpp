#include "store/point_writer.hpp"

#include <string>

namespace trainscope::agent {

namespace {

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
        throw SqliteError(std::string(sqlite3_errmsg(db)) + " in: " + sql);
    return stmt;
}

}  // namespace

// 64: an index row per 64 points costs about 2 % of ingest over one per 256 (store_bench,
// BM_heap_cap64) and cuts the rows a read scans at each edge of its range by 4.
const std::int64_t PointWriter::kRowsPerChunk = 64;

PointWriter::PointWriter(Db& db) : db_(db.handle()) {
    row_ = prepare(db_, "INSERT INTO point_rows(seq, step, t_us, value) VALUES (?,?,?,?)");
    chunk_ = prepare(db_,
                     "INSERT INTO point_chunks(series_id, first_seq, last_seq, first_row, last_row) "
                     "VALUES (?,?,?,?,?)");
}

PointWriter::~PointWriter() {
    sqlite3_finalize(row_);
    sqlite3_finalize(chunk_);
}

void PointWriter::insert(std::int64_t seq, const PendingPoint& p) {
    // Every parameter is bound on every call, so no sqlite3_clear_bindings between rows; a
    // bind on a prepared statement with valid indexes cannot fail.
    sqlite3_bind_int64(row_, 1, seq);
    sqlite3_bind_int64(row_, 2, p.step);
    sqlite3_bind_int64(row_, 3, p.t_us);
    if (p.value == p.value) sqlite3_bind_double(row_, 4, p.value);
    else sqlite3_bind_null(row_, 4);  // NaN: SQLite has none
    int rc = sqlite3_step(row_);
    sqlite3_reset(row_);
    if (rc != SQLITE_DONE) throw SqliteError(sqlite3_errmsg(db_));
    // A rowid table without deletes at its end appends at max(rowid) + 1; an index row
    // stands for contiguous rowids, so anything else (rows deleted at the end since the last
    // commit cannot, but be sure) starts a new one.
    std::int64_t row = sqlite3_last_insert_rowid(db_);
    if (rows_ > 0 && (p.series_id != series_ || rows_ == kRowsPerChunk || row != first_row_ + rows_))
        write_chunk();
    if (rows_ == 0) {
        series_ = p.series_id;
        first_seq_ = seq;
        first_row_ = row;
    }
    last_seq_ = seq;
    ++rows_;
}

void PointWriter::finish() {
    if (rows_ > 0) write_chunk();
}

void PointWriter::write_chunk() {
    sqlite3_bind_int64(chunk_, 1, series_);
    sqlite3_bind_int64(chunk_, 2, first_seq_);
    sqlite3_bind_int64(chunk_, 3, last_seq_);
    sqlite3_bind_int64(chunk_, 4, first_row_);
    sqlite3_bind_int64(chunk_, 5, first_row_ + rows_ - 1);
    int rc = sqlite3_step(chunk_);
    sqlite3_reset(chunk_);
    rows_ = 0;
    if (rc != SQLITE_DONE) throw SqliteError(sqlite3_errmsg(db_));
}

void PointWriter::reset() {
    sqlite3_reset(row_);
    sqlite3_reset(chunk_);
    rows_ = 0;
}

}  // namespace trainscope::agent
