// Deleting runs and giving their space back: the write side of DELETE /api/runs/{id} and of
// retention (ingest/run_removal.cpp decides what goes; this removes it).
#include "store/store.hpp"

#include "store/point_writer.hpp"
#include "store/rollups.hpp"

namespace trainscope::agent {

void Store::use_incremental_vacuum() {
    {
        Stmt mode(*db_, "PRAGMA auto_vacuum");
        if (mode.step() && mode.int64(0) == 2) return;  // INCREMENTAL already
    }
    bool empty = true;
    {
        Stmt tables(*db_, "SELECT 1 FROM sqlite_master LIMIT 1");
        empty = !tables.step();
    }
    db_->exec("PRAGMA auto_vacuum=INCREMENTAL");
    // An existing file keeps its mode until rebuilt: once, by a VACUUM (as long as copying it).
    if (!empty) db_->exec("VACUUM");
}

bool Store::delete_run(const std::string& session_id) {
    Transaction tx(*db_);
    {
        Stmt known(*db_, "SELECT 1 FROM runs WHERE session_id=?");
        known.bind(1, session_id);
        if (!known.step()) return false;
    }
    {
        // The run's point rows: each index row names a span of rowids of one of its series.
        Stmt spans(*db_,
                   "SELECT first_row, last_row FROM point_chunks "
                   "WHERE series_id IN (SELECT id FROM series WHERE session_id=?1)");
        Stmt rows(*db_, "DELETE FROM point_rows WHERE rowid BETWEEN ? AND ?");
        spans.bind(1, session_id);
        while (spans.step()) rows.bind(1, spans.int64(0)).bind(2, spans.int64(1)).run();
    }
    for (const char* sql : {
             "DELETE FROM point_chunks WHERE series_id IN (SELECT id FROM series WHERE session_id=?1)",
             "DELETE FROM rollups WHERE series_id IN (SELECT id FROM series WHERE session_id=?1)",
             "DELETE FROM series WHERE session_id=?1",
             "DELETE FROM events WHERE session_id=?1",
             "DELETE FROM producer_lanes WHERE (segment, pid, start_time) IN "
             "(SELECT segment, pid, start_time FROM producers WHERE session_id=?1)",
             "DELETE FROM producers WHERE session_id=?1",
             "DELETE FROM run_meta WHERE session_id=?1",
             "DELETE FROM runs WHERE session_id=?1",
         }) {
        Stmt del(*db_, sql);
        del.bind(1, session_id).run();
    }
    tx.commit();
    rollups_->discard();  // cached buckets of the deleted series must not be written back
    point_writer_->reset();  // nor its count of their small index rows kept
    // Only after the commit: a failed one leaves the caches matching the database.
    for (auto it = series_ids_.begin(); it != series_ids_.end();) {
        if (std::get<0>(it->first) == session_id) {
            series_meta_.erase(it->second);
            it = series_ids_.erase(it);
        } else {
            ++it;
        }
    }
    last_seq_.erase(session_id);
    return true;
}

void Store::reclaim_space() {
    db_->exec("PRAGMA incremental_vacuum");
    // The file shrinks once the WAL is checkpointed; a reader still using it makes this a
    // partial checkpoint, and the next one finishes the job.
    Stmt checkpoint(*db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    while (checkpoint.step()) {
    }
}

std::int64_t Store::size_bytes() {
    auto pragma = [this](const char* sql) {
        Stmt q(*db_, sql);
        return q.step() ? q.int64(0) : 0;
    };
    return (pragma("PRAGMA page_count") - pragma("PRAGMA freelist_count")) * pragma("PRAGMA page_size");
}

std::vector<std::pair<std::string, double>> Store::ended_runs_oldest_first() {
    std::vector<std::pair<std::string, double>> out;
    Stmt q(*db_,
           "SELECT session_id, COALESCE(ended_ms, last_ms, started_ms) AS t FROM runs "
           "WHERE status != 'running' ORDER BY t, session_id");
    while (q.step()) out.emplace_back(std::string(q.text(0)), q.real(1));
    return out;
}

std::optional<std::int64_t> Store::run_last_seq(const std::string& session_id) {
    Stmt q(*db_, "SELECT last_seq FROM runs WHERE session_id=?");
    q.bind(1, session_id);
    if (!q.step()) return std::nullopt;
    return q.int64(0);
}

}  // namespace trainscope::agent
