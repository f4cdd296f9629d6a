#include "store/point_writer.hpp"

namespace trainscope::agent {

PointWriter::PointWriter(Db& db) : db_(db.handle()) {
    const char* sql = "INSERT INTO points(series_id, seq, step, t_us, value) VALUES (?,?,?,?,?)";
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
        throw SqliteError(std::string(sqlite3_errmsg(db_)) + " in: " + sql);
}

PointWriter::~PointWriter() { sqlite3_finalize(stmt_); }

void PointWriter::insert(std::int64_t seq, const PendingPoint& p) {
    // Every parameter is bound on every call, so no sqlite3_clear_bindings between rows; a
    // bind on a prepared statement with valid indexes cannot fail.
    sqlite3_bind_int64(stmt_, 1, p.series_id);
    sqlite3_bind_int64(stmt_, 2, seq);
    sqlite3_bind_int64(stmt_, 3, p.step);
    sqlite3_bind_int64(stmt_, 4, p.t_us);
    if (p.value == p.value) sqlite3_bind_double(stmt_, 5, p.value);
    else sqlite3_bind_null(stmt_, 5);  // NaN: SQLite has none
    int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) throw SqliteError(sqlite3_errmsg(db_));
}

}  // namespace trainscope::agent
