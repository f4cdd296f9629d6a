// A thin RAII layer over libpq: one connection, statements, and COPY FROM STDIN. Every failure
// becomes a PgError carrying PostgreSQL's own message (and SQLSTATE when the server sent one),
// so a log line says why ("connection refused", "relation ... does not exist").
//
// Not thread-safe: one thread owns a connection (the shipper's, or a test's).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace trainscope::agent {

struct PgError : std::runtime_error {
    PgError(const std::string& what, std::string sqlstate = {})
        : std::runtime_error(what), sqlstate(std::move(sqlstate)) {}
    std::string sqlstate;  ///< five characters, e.g. "23505" (unique violation); empty if none
};

/// The rows of one statement; values as text, as libpq hands them over.
class PgResult {
public:
    explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
    int rows() const { return PQntuples(r_.get()); }
    bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
    std::int64_t int64(int row, int col) const;
    /// Rows a command changed (INSERT, UPDATE ...); 0 for none.
    std::int64_t affected() const;

private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgConnection {
public:
    /// Connects with a URI or a "key=value" string (libpq's formats); throws PgError.
    /// Unless the string says otherwise, a connection attempt gives up after 10 s and TCP
    /// keepalives find a dead peer within ~25 s (a silent host must not block the shipper).
    explicit PgConnection(const std::string& conninfo);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    /// Runs one or more statements without parameters; the last one's rows.
    PgResult exec(const std::string& sql);
    /// Runs one statement with text parameters ($1, $2 ...; nullopt is SQL NULL).
    PgResult exec(const std::string& sql, const std::vector<std::optional<std::string>>& params);
    /// COPY <target> FROM STDIN (text format): `data` holds the rows, tab-separated, one per
    /// line, already escaped (copy_escape). Returns the rows copied.
    std::int64_t copy_in(const std::string& target, const std::string& data);
    /// The same in COPY's binary format: `data` is what BinaryCopy built.
    std::int64_t copy_in_binary(const std::string& target, const std::string& data);

    /// The libpq handle, for what this layer does not wrap (LISTEN's notifications in tests).
    PGconn* handle() const { return conn_; }
    /// Whether libpq still thinks the connection is usable.
    bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }

private:
    PgResult check(PGresult* r, const std::string& what);
    /// Runs "COPY <command>" and sends `data` as its rows.
    std::int64_t copy_rows(const std::string& command, const std::string& data);
    PGconn* conn_ = nullptr;
};

/// Rows in COPY's binary format (header, then per row a field count and each field's length
/// and big-endian bytes, then the trailer). The server reads numbers in it without parsing
/// text, which is most of what a text COPY of numeric rows costs it.
class BinaryCopy {
public:
    BinaryCopy();
    void row(std::int16_t fields);
    void int64(std::int64_t v);
    void float8(double v);
    void null();  ///< SQL NULL in place of a field
    /// Appends the trailer and hands over the bytes; the object is then spent.
    std::string finish();
    std::size_t size() const { return data_.size(); }

private:
    void be(std::uint64_t v, int bytes);
    std::string data_;
};

/// Appends `text` escaped for COPY's text format (backslash, tab, newline, carriage return).
void copy_escape(std::string& out, const std::string& text);
/// Appends a double as COPY and SQL literals read it back exactly (shortest round trip;
/// NaN and the infinities by name).
void append_double(std::string& out, double v);

}  // namespace trainscope::agent
