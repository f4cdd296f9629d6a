// A thin RAII layer over the SQLite C API: a connection and a prepared statement.
// Errors become SqliteError with SQLite's own message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace trainscope::agent {

struct SqliteError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Db {
public:
    /// Opens (creating if asked) a database file; readers open it read-only.
    explicit Db(const std::string& path, bool read_only = false);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    void exec(const char* sql);
    sqlite3* handle() const { return db_; }
    std::int64_t changes() const { return sqlite3_changes64(db_); }
    std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

private:
    sqlite3* db_ = nullptr;
};

class Stmt {
public:
    Stmt(Db& db, const char* sql);
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int i, std::int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); return *this; }
    Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Stmt& bind(int i, double v) { check(sqlite3_bind_double(stmt_, i, v)); return *this; }
    Stmt& bind(int i, std::string_view v) {
        check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
        return *this;
    }
    Stmt& bind_null(int i) { check(sqlite3_bind_null(stmt_, i)); return *this; }

    /// Steps once: true while a row is available.
    bool step();
    /// Runs a statement that returns no rows, then resets it for reuse.
    void run() { step(); reset(); }
    void reset() { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); }

    std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
    double real(int col) const { return sqlite3_column_double(stmt_, col); }
    bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
    std::string_view text(int col) const {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
        return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string_view();
    }

private:
    void check(int rc);
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed.
class Transaction {
public:
    explicit Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
    ~Transaction() {
        if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    void commit() { db_.exec("COMMIT"); done_ = true; }

private:
    Db& db_;
    bool done_ = false;
};

}  // namespace trainscope::agent
