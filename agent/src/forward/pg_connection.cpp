#include "forward/pg_connection.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

namespace trainscope::agent {

namespace {

/// libpq's messages end in a newline and may span lines ("\n\tIs the server running..."); a
/// log line and a JSON field should be one line.
std::string trimmed(const char* message) {
    std::string s;
    for (const char* p = message ? message : ""; *p; ++p) {
        bool space = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
        if (space) {
            if (!s.empty() && s.back() != ' ') s += ' ';
        } else {
            s += *p;
        }
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

}  // namespace

std::int64_t PgResult::int64(int row, int col) const {
    const char* v = PQgetvalue(r_.get(), row, col);
    std::int64_t out = 0;
    std::from_chars(v, v + std::char_traits<char>::length(v), out);
    return out;
}

std::int64_t PgResult::affected() const {
    const char* v = PQcmdTuples(r_.get());
    std::int64_t out = 0;
    std::from_chars(v, v + std::char_traits<char>::length(v), out);
    return out;
}

namespace {

/// libpq waits for a silent server as long as the kernel lets it (minutes, or for ever when
/// the host answers TCP but the server never speaks), and a dead peer mid-statement is found
/// only by TCP keepalives, off by default. The shipper and the hub must notice and retry
/// instead: these apply wherever the caller's conninfo does not set the same keyword.
constexpr std::pair<const char*, const char*> kDefaults[] = {
    {"connect_timeout", "10"},   // seconds for the whole connection attempt
    {"keepalives", "1"},
    {"keepalives_idle", "10"},   // seconds of silence before the first probe
    {"keepalives_interval", "5"},
    {"keepalives_count", "3"},   // a dead peer is noticed within ~25 s
};

PGconn* connect_with_defaults(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
    if (!parsed) {
        std::string why = error ? trimmed(error) : "out of memory";
        PQfreemem(error);
        throw PgError("cannot connect to PostgreSQL: bad connection string: " + why);
    }
    std::vector<const char*> keys, values;
    for (PQconninfoOption* o = parsed; o->keyword; ++o) {
        if (!o->val) continue;
        keys.push_back(o->keyword);
        values.push_back(o->val);
    }
    for (const auto& [key, value] : kDefaults) {
        bool given = false;
        for (const char* k : keys) given = given || std::strcmp(k, key) == 0;
        if (!given) {
            keys.push_back(key);
            values.push_back(value);
        }
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
    PQconninfoFree(parsed);
    return conn;
}

}  // namespace

PgConnection::PgConnection(const std::string& conninfo) : conn_(connect_with_defaults(conninfo)) {
    if (!conn_) throw PgError("PostgreSQL: out of memory connecting");
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string why = trimmed(PQerrorMessage(conn_));
        PQfinish(conn_);
        conn_ = nullptr;
        throw PgError("cannot connect to PostgreSQL: " + why);
    }
    // NOTICEs ("... does not exist, skipping") would go to stderr unasked; errors still throw.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    // The agent speaks in UTC and text; nothing depends on the server's locale.
    exec("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
}

PgConnection::~PgConnection() {
    if (conn_) PQfinish(conn_);
}

PgResult PgConnection::check(PGresult* r, const std::string& what) {
    ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN)
        return PgResult(r);
    std::string message = r ? trimmed(PQresultErrorMessage(r)) : trimmed(PQerrorMessage(conn_));
    if (message.empty()) message = trimmed(PQerrorMessage(conn_));
    std::string state;
    if (r) {
        if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
        PQclear(r);
    }
    throw PgError("PostgreSQL " + what + ": " + message, state);
}

PgResult PgConnection::exec(const std::string& sql) {
    return check(PQexec(conn_, sql.c_str()), "statement failed");
}

PgResult PgConnection::exec(const std::string& sql,
                            const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return check(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0),
                 "statement failed");
}

std::int64_t PgConnection::copy_in_binary(const std::string& target, const std::string& data) {
    return copy_rows(target + " FROM STDIN (FORMAT binary)", data);
}

std::int64_t PgConnection::copy_in(const std::string& target, const std::string& data) {
    return copy_rows(target + " FROM STDIN", data);
}

std::int64_t PgConnection::copy_rows(const std::string& command, const std::string& data) {
    check(PQexec(conn_, ("COPY " + command).c_str()), "COPY failed to start");
    // Pieces of 1 MiB: libpq buffers what it cannot send at once, and smaller pieces keep that
    // buffer small.
    constexpr std::size_t kPiece = 1 << 20;
    for (std::size_t at = 0; at < data.size(); at += kPiece) {
        int n = static_cast<int>(std::min(kPiece, data.size() - at));
        if (PQputCopyData(conn_, data.data() + at, n) != 1)
            throw PgError("PostgreSQL COPY failed sending rows: " + trimmed(PQerrorMessage(conn_)));
    }
    if (PQputCopyEnd(conn_, nullptr) != 1)
        throw PgError("PostgreSQL COPY failed ending: " + trimmed(PQerrorMessage(conn_)));
    PgResult done = check(PQgetResult(conn_), "COPY failed");
    // COPY's command result is followed by a final null result.
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    return done.affected();
}

BinaryCopy::BinaryCopy() {
    static const char header[] = "PGCOPY\n\377\r\n\0";
    data_.append(header, 11);
    be(0, 4);  // flags: no OIDs
    be(0, 4);  // header extension length
}

void BinaryCopy::be(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) data_ += static_cast<char>((v >> (8 * i)) & 0xff);
}

void BinaryCopy::row(std::int16_t fields) { be(static_cast<std::uint16_t>(fields), 2); }

void BinaryCopy::int64(std::int64_t v) {
    be(8, 4);
    be(static_cast<std::uint64_t>(v), 8);
}

void BinaryCopy::float8(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    be(8, 4);
    be(bits, 8);
}

void BinaryCopy::null() { be(0xffffffff, 4); }  // a field length of -1

std::string BinaryCopy::finish() {
    be(0xffff, 2);  // trailer: a field count of -1
    return std::move(data_);
}

void copy_escape(std::string& out, const std::string& text) {
    for (char c : text) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            default: out += c;
        }
    }
}

void append_double(std::string& out, double v) {
    if (std::isnan(v)) { out += "NaN"; return; }
    if (std::isinf(v)) { out += v > 0 ? "Infinity" : "-Infinity"; return; }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

}  // namespace trainscope::agent
