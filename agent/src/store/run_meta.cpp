// The write side of run_meta (RunEdit): table creation and Store::edit_run.
#include "store/run_meta.hpp"

#include "store/store.hpp"

namespace trainscope::agent {

std::string join_tags(const std::vector<std::string>& tags) {
    std::string out;
    for (const std::string& t : tags) {
        if (!out.empty()) out += ' ';
        out += t;
    }
    return out;
}

std::vector<std::string> split_tags(const std::string& joined) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < joined.size()) {
        std::size_t end = joined.find(' ', start);
        if (end == std::string::npos) end = joined.size();
        if (end > start) out.push_back(joined.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

void Store::create_run_meta(Db& db) {
    // A table of its own rather than columns of runs: a database from an earlier agent gets it
    // by this CREATE alone, and the trainer's columns are never rewritten by an edit.
    db.exec(R"sql(
CREATE TABLE IF NOT EXISTS run_meta (
    session_id TEXT PRIMARY KEY,
    name       TEXT,                     -- NULL: the trainer's name (runs.name)
    notes      TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT ''  -- space-separated
) WITHOUT ROWID;
)sql");
}

bool Store::edit_run(const std::string& session_id, const RunEdit& edit) {
    Transaction tx(*db_);
    {
        Stmt known(*db_, "SELECT 1 FROM runs WHERE session_id=?");
        known.bind(1, session_id);
        if (!known.step()) return false;
    }
    Stmt ensure(*db_, "INSERT OR IGNORE INTO run_meta(session_id) VALUES (?)");
    ensure.bind(1, session_id).run();
    if (edit.name) {
        Stmt set(*db_, "UPDATE run_meta SET name=? WHERE session_id=?");
        if (edit.name->empty()) set.bind_null(1);
        else set.bind(1, *edit.name);
        set.bind(2, session_id).run();
    }
    if (edit.notes) {
        Stmt set(*db_, "UPDATE run_meta SET notes=? WHERE session_id=?");
        set.bind(1, *edit.notes).bind(2, session_id).run();
    }
    if (edit.tags) {
        Stmt set(*db_, "UPDATE run_meta SET tags=? WHERE session_id=?");
        set.bind(1, join_tags(*edit.tags)).bind(2, session_id).run();
    }
    tx.commit();
    return true;
}

}  // namespace trainscope::agent
