// Read-only access to the agent's SQLite file with the C API: a second, independent check
// of what the REST API reports.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trainscope::test {

class SqliteReader {
public:
    /// Opens `path` read-only; throws std::runtime_error if it cannot.
    explicit SqliteReader(const std::string& path);
    ~SqliteReader();
    SqliteReader(const SqliteReader&) = delete;
    SqliteReader& operator=(const SqliteReader&) = delete;

    /// The first row of `sql` with `params` bound in order (text values; SQLite converts),
    /// every column as int64 (NULL reads as 0). Throws on SQL errors or an empty result.
    std::vector<std::int64_t> row(const std::string& sql,
                                  const std::vector<std::string>& params = {});
    std::int64_t scalar(const std::string& sql, const std::vector<std::string>& params = {}) {
        return row(sql, params).at(0);
    }

private:
    sqlite3* db_ = nullptr;
};

}  // namespace trainscope::test
