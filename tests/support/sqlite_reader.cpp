#include "support/sqlite_reader.hpp"

#include <stdexcept>

namespace trainscope::test {

SqliteReader::SqliteReader(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot open " + path + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
}

SqliteReader::~SqliteReader() {
    sqlite3_close(db_);
}

std::vector<std::int64_t> SqliteReader::row(const std::string& sql,
                                            const std::vector<std::string>& params) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        throw std::runtime_error("SQL error in '" + sql + "': " + sqlite3_errmsg(db_));
    for (std::size_t i = 0; i < params.size(); ++i)
        sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
    std::vector<std::int64_t> out;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(stmt); ++c)
            out.push_back(sqlite3_column_int64(stmt, c));
    std::string why = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) throw std::runtime_error("no row from '" + sql + "': " + why);
    return out;
}

}  // namespace trainscope::test
