#include "forward/spool_reader.hpp"

#include <cmath>

#include "store/point_layout.hpp"

namespace trainscope::agent {

SpoolReader::SpoolReader(const std::string& db_path) : db_(db_path, true) {}

SpoolReader::~SpoolReader() { end(); }

void SpoolReader::begin() {
    end();
    db_.exec("BEGIN");
    open_ = true;
}

void SpoolReader::end() {
    if (!open_) return;
    points_.reset();  // a statement left mid-step would keep the snapshot
    sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr);
    open_ = false;
}

std::vector<SpoolRun> SpoolReader::runs() {
    std::vector<SpoolRun> out;
    Stmt s(db_,
           "SELECT session_id, name, status, pid, started_ms, ended_ms, last_ms, last_seq "
           "FROM runs");
    while (s.step()) {
        SpoolRun r;
        r.session_id = s.text(0);
        r.name = s.text(1);
        r.status = s.text(2);
        r.pid = s.int64(3);
        r.started_ms = s.real(4);
        if (!s.is_null(5)) r.ended_ms = s.real(5);
        if (!s.is_null(6)) r.last_ms = s.real(6);
        r.last_seq = s.int64(7);
        out.push_back(std::move(r));
    }
    return out;
}

std::pair<std::string, std::string> SpoolReader::run_blobs(const std::string& session_id) {
    Stmt s(db_, "SELECT config, model_info FROM runs WHERE session_id = ?");
    s.bind(1, session_id);
    if (!s.step()) return {};
    return {std::string(s.text(0)), std::string(s.text(1))};
}

void SpoolReader::points(const std::string& session_id, std::int64_t after, std::int64_t upto,
                         std::vector<SpoolPoint>& out) {
    // One seek in point_chunks per series of the run, then its rows in the range.
    if (!points_)
        points_ = std::make_unique<Stmt>(
            db_, ("SELECT c.series_id, p.seq, p.step, p.t_us, p.value FROM series s JOIN " +
                  series_point_rows("s.id", "?2 + 1", "?3") + " WHERE s.session_id = ?1")
                     .c_str());
    points_->bind(1, session_id).bind(2, after).bind(3, upto);
    while (points_->step())
        out.push_back(SpoolPoint{points_->int64(0), points_->int64(1), points_->int64(2),
                                 points_->int64(3),
                                 points_->is_null(4) ? std::nan("") : points_->real(4)});
    points_->reset();
}

SpoolSeries SpoolReader::series(std::int64_t id) {
    Stmt s(db_, "SELECT session_id, rank, name FROM series WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) throw SqliteError("series " + std::to_string(id) + " is not in the store");
    return SpoolSeries{std::string(s.text(0)), static_cast<int>(s.int64(1)), std::string(s.text(2))};
}

std::vector<SpoolEvent> SpoolReader::events_after(std::int64_t after, int limit) {
    std::vector<SpoolEvent> out;
    Stmt s(db_,
           "SELECT rowid, session_id, rank, t_ms, kind, text FROM events WHERE rowid > ? "
           "ORDER BY rowid LIMIT ?");
    s.bind(1, after).bind(2, limit);
    while (s.step())
        out.push_back(SpoolEvent{s.int64(0), std::string(s.text(1)), static_cast<int>(s.int64(2)),
                                 s.real(3), std::string(s.text(4)), std::string(s.text(5))});
    return out;
}

}  // namespace trainscope::agent
