// The forwarding side's view of the agent's own SQLite (the store-and-forward spool): what is
// committed locally and not yet shipped. Read-only, its own connection; the collector stays
// the database's only writer. Between begin() and end() every read sees one snapshot (WAL), so
// a run's last_seq and its points agree.
//
// Used by the shipper thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite.hpp"

namespace trainscope::agent {

struct SpoolRun {
    std::string session_id;
    std::string name;
    std::string status;
    std::int64_t pid = 0;
    double started_ms = 0;
    double ended_ms = -1;  ///< -1: not ended
    double last_ms = -1;   ///< -1: no point yet
    std::int64_t last_seq = 0;
};

struct SpoolPoint {
    std::int64_t series_id;  ///< the local series id
    std::int64_t seq;
    std::int64_t step;
    std::int64_t t_us;
    double value;            ///< NaN where SQLite holds NULL
};

struct SpoolSeries {
    std::string session_id;
    int rank = 0;
    std::string name;
};

struct SpoolEvent {
    std::int64_t rowid;
    std::string session_id;
    int rank;
    double t_ms;
    std::string kind;
    std::string text;
};

class SpoolReader {
public:
    explicit SpoolReader(const std::string& db_path);
    ~SpoolReader();

    /// Starts a read snapshot; end() closes it (also on destruction).
    void begin();
    void end();

    std::vector<SpoolRun> runs();
    /// A run's config and model info (empty when none).
    std::pair<std::string, std::string> run_blobs(const std::string& session_id);
    /// Appends the run's points with after < seq <= upto, in seq order per series.
    void points(const std::string& session_id, std::int64_t after, std::int64_t upto,
                std::vector<SpoolPoint>& out);
    /// The series' session, rank and name; throws SqliteError if it does not exist.
    SpoolSeries series(std::int64_t id);
    /// Up to `limit` events with rowid > after, oldest first.
    std::vector<SpoolEvent> events_after(std::int64_t after, int limit);

private:
    Db db_;
    bool open_ = false;
    std::unique_ptr<Stmt> points_;
};

}  // namespace trainscope::agent
