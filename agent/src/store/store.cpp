#include "store/store.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_map>

#include "store/point_layout.hpp"
#include "store/point_writer.hpp"
#include "store/rollups.hpp"

namespace trainscope::agent {

void Store::create_schema(Db& db) {
    db.exec(R"sql(
CREATE TABLE IF NOT EXISTS runs (
    session_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,          -- running | finished | failed | crashed
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_ms REAL NOT NULL,
    ended_ms   REAL,
    last_ms    REAL,
    config     TEXT,
    model_info TEXT,
    last_seq   INTEGER NOT NULL DEFAULT 0  -- seq of the newest point of this run
);
CREATE TABLE IF NOT EXISTS producers (  -- one trainer segment (a process, a rank)
    segment    TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    start_time INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    dropped    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (segment, pid, start_time)
);
CREATE TABLE IF NOT EXISTS producer_lanes (  -- layout v2: one row per lane of a segment
    segment    TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    start_time INTEGER NOT NULL,
    lane       INTEGER NOT NULL,
    consumed   INTEGER NOT NULL,  -- lane position below which all is stored
    PRIMARY KEY (segment, pid, start_time, lane)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    name       TEXT NOT NULL,
    points     INTEGER NOT NULL DEFAULT 0,  -- count and step bounds of its points, kept by
    min_step   INTEGER,                     -- Store::commit so a whole-series read needs no
    max_step   INTEGER,                     -- COUNT pass (NULL: no points yet)
    steps_ordered INTEGER NOT NULL DEFAULT 1,  -- 1 while no point's step is below the step
                                               -- of the point before it in seq order
    UNIQUE (session_id, rank, name)
);
CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    t_ms       REAL NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL
);
-- Lookups by run: the run list's order, a run's events and producers (10,000 runs stay fast).
CREATE INDEX IF NOT EXISTS runs_by_start ON runs(started_ms);
CREATE INDEX IF NOT EXISTS events_by_run ON events(session_id);
CREATE INDEX IF NOT EXISTS producers_by_run ON producers(session_id);
)sql");
    // Points (point_layout.hpp); an older agent's `points` table is moved by the constructor.
    create_point_tables(db);
    RollupWriter::create_table(db);
    add_series_stats(db);
    create_run_meta(db);
}

void Store::add_series_stats(Db& db) {
    // Databases made by earlier agents lack the series' point count, step bounds and
    // steps_ordered: add the columns and fill them from the points, all or nothing.
    Transaction tx(db);
    std::set<std::string> columns;
    for (Stmt info(db, "PRAGMA table_info(series)"); info.step();) columns.emplace(info.text(1));
    bool added = false;
    for (const char* column :
         {"points INTEGER NOT NULL DEFAULT 0", "min_step INTEGER", "max_step INTEGER",
          "steps_ordered INTEGER NOT NULL DEFAULT 1"}) {
        std::string name(column, std::strchr(column, ' '));
        if (columns.count(name)) continue;
        db.exec(("ALTER TABLE series ADD COLUMN " + std::string(column)).c_str());
        added = true;
    }
    // Refill every series after adding the columns; otherwise only those of a run whose counts
    // do not add up to its last seq (every stored point takes the next one), which an older
    // agent writing to this database since would leave behind.
    std::string refill =
        "UPDATE series SET (points, min_step, max_step) = "
        "(SELECT COUNT(*), MIN(step), MAX(step) FROM points WHERE series_id = series.id), "
        "steps_ordered = NOT EXISTS (SELECT 1 FROM (SELECT step, LAG(step) OVER (ORDER BY seq) "
        "AS previous FROM points WHERE series_id = series.id) WHERE step < previous)";
    if (!added)
        refill += " WHERE session_id IN (SELECT r.session_id FROM runs r WHERE r.last_seq != "
                  "(SELECT COALESCE(SUM(s.points), 0) FROM series s WHERE s.session_id = r.session_id))";
    db.exec(refill.c_str());
    tx.commit();
}

Store::Store(const std::string& path, const std::function<void(const std::string&)>& progress)
    : db_(std::make_unique<Db>(path)) {
    // Before WAL: switching to WAL writes the header of a new file, which fixes its vacuum mode.
    use_incremental_vacuum();
    db_->exec("PRAGMA journal_mode=WAL");
    // NORMAL in WAL mode: a commit survives the agent being killed; only power loss may
    // take the last transactions, and the trainer's segment still holds those points.
    db_->exec("PRAGMA synchronous=NORMAL");
    create_schema(*db_);
    auto say = progress ? progress : [](const std::string&) {};
    migrate_clustered_points(*db_, say);  // before anything reads points the new way
    point_writer_ = std::make_unique<PointWriter>(*db_);
    rollups_ = std::make_unique<RollupWriter>(*db_);
    rollups_->rebuild_stale(say);
}

Store::~Store() = default;

void Store::register_run(const std::string& session_id, const std::string& name,
                         const std::string& host, std::int64_t pid, double started_ms) {
    Stmt insert(*db_,
                "INSERT INTO runs(session_id, name, status, host, pid, started_ms) "
                "VALUES (?,?,'running',?,?,?) ON CONFLICT(session_id) DO UPDATE SET "
                "status='running', ended_ms=NULL, started_ms=MIN(started_ms, excluded.started_ms)");
    insert.bind(1, session_id).bind(2, name).bind(3, host).bind(4, pid).bind(5, started_ms).run();
}

std::vector<std::int64_t> Store::producer_consumed(const ProducerKey& key,
                                                   const std::string& session_id, int rank,
                                                   std::uint32_t lane_count) {
    std::vector<std::int64_t> consumed(lane_count, -1);
    // A database written by a v1 agent has a `consumed` column in producers too; its default
    // fills it, and nothing reads it (v1 segments are refused).
    Stmt insert(*db_,
                "INSERT OR IGNORE INTO producers(segment, pid, start_time, session_id, rank) "
                "VALUES (?,?,?,?,?)");
    insert.bind(1, key.segment).bind(2, key.pid).bind(3, key.start_time).bind(4, session_id)
        .bind(5, rank).run();
    Stmt find(*db_,
              "SELECT lane, consumed FROM producer_lanes WHERE segment=? AND pid=? AND start_time=?");
    find.bind(1, key.segment).bind(2, key.pid).bind(3, key.start_time);
    while (find.step()) {
        std::int64_t lane = find.int64(0);
        if (lane >= 0 && lane < static_cast<std::int64_t>(lane_count))
            consumed[static_cast<std::size_t>(lane)] = find.int64(1);
    }
    return consumed;
}

std::int64_t Store::series_id(const std::string& session_id, int rank, const std::string& name) {
    auto key = std::make_tuple(session_id, rank, name);
    if (auto it = series_ids_.find(key); it != series_ids_.end()) return it->second;
    Stmt insert(*db_, "INSERT OR IGNORE INTO series(session_id, rank, name) VALUES (?,?,?)");
    insert.bind(1, session_id).bind(2, rank).bind(3, name).run();
    Stmt find(*db_, "SELECT id FROM series WHERE session_id=? AND rank=? AND name=?");
    find.bind(1, session_id).bind(2, rank).bind(3, name);
    if (!find.step()) throw SqliteError("series vanished: " + name);
    std::int64_t id = find.int64(0);
    series_ids_.emplace(key, id);
    series_meta_.emplace(id, SeriesMeta{session_id, rank, name});
    return id;
}

std::int64_t& Store::last_seq(const std::string& session_id) {
    auto it = last_seq_.find(session_id);
    if (it == last_seq_.end()) {
        Stmt find(*db_, "SELECT last_seq FROM runs WHERE session_id=?");
        find.bind(1, session_id);
        std::int64_t last = find.step() ? find.int64(0) : 0;
        it = last_seq_.emplace(session_id, last).first;
    }
    return it->second;
}

std::vector<SeriesUpdate> Store::commit(const CommitBatch& batch) {
    std::vector<SeriesUpdate> updates;
    // Per touched series, found once per commit rather than per point: its meta, its run's
    // seq counter (a node of last_seq_, stable within the commit) and its slot in updates.
    struct Touched {
        const SeriesMeta* meta;
        std::int64_t* seq;
        std::vector<const PendingPoint*> pending;  // in arrival (= seq) order
    };
    std::vector<Touched> touched;
    std::unordered_map<std::int64_t, std::size_t> update_index;  // series id -> index in updates
    std::map<std::int64_t, std::size_t> by_id;  // the same, in id order (stats UPDATEs)
    std::map<std::string, double> last_ms;
    std::vector<std::pair<std::int64_t*, std::int64_t>> saved_seq;  // restored on failure

    try {
        Transaction tx(*db_);
        for (const PendingPoint& p : batch.points) {
            // try_emplace: no node is allocated for a series already seen (every point but 16).
            auto [it, fresh] = update_index.try_emplace(p.series_id, updates.size());
            if (fresh) {
                const SeriesMeta& meta = series_meta_.at(p.series_id);
                std::int64_t* counter = &last_seq(meta.session_id);
                if (std::none_of(saved_seq.begin(), saved_seq.end(),
                                 [&](const auto& s) { return s.first == counter; }))
                    saved_seq.emplace_back(counter, *counter);
                touched.push_back(Touched{&meta, counter, {}});
                by_id.emplace(p.series_id, updates.size());
                updates.push_back(SeriesUpdate{meta.session_id, meta.rank, meta.name, {}});
            }
            Touched& t = touched[it->second];
            std::int64_t seq = ++*t.seq;
            t.pending.push_back(&p);
            updates[it->second].points.push_back(
                StoredPoint{seq, p.step, static_cast<double>(p.t_us) / 1000.0, p.value});
        }
        // Series by series in id order, each in seq order: each series' points of this commit
        // are contiguous rows of the append-only heap, one index row per 64 of them.
        for (const auto& [id, i] : by_id) {
            const std::vector<StoredPoint>& stored = updates[i].points;
            const std::vector<const PendingPoint*>& pending = touched[i].pending;
            for (std::size_t k = 0; k < stored.size(); ++k)
                point_writer_->insert(stored[k].seq, *pending[k]);
        }
        point_writer_->finish();
        for (std::size_t i = 0; i < updates.size(); ++i)
            last_ms[touched[i].meta->session_id] = std::max(
                last_ms[touched[i].meta->session_id], updates[i].points.back().t_ms);
        // Each touched series' count and step bounds, in the same transaction as its points.
        // It stays steps_ordered if the batch's steps (in seq order) never go down and its first
        // is not below the stored max_step: every SET expression of an UPDATE sees the row as
        // it was, so that max_step is the one before this batch.
        Stmt stats(*db_,
                   "UPDATE series SET points=points+?1, min_step=MIN(COALESCE(min_step,?2),?2), "
                   "max_step=MAX(COALESCE(max_step,?3),?3), steps_ordered = steps_ordered AND ?5 "
                   "AND (max_step IS NULL OR ?6 >= max_step) WHERE id=?4");
        auto by_step = [](const StoredPoint& a, const StoredPoint& b) { return a.step < b.step; };
        for (const auto& [id, i] : by_id) {
            const std::vector<StoredPoint>& points = updates[i].points;
            auto [lo, hi] = std::minmax_element(points.begin(), points.end(), by_step);
            stats.bind(1, static_cast<std::int64_t>(points.size())).bind(2, lo->step)
                .bind(3, hi->step).bind(4, id)
                .bind(5, std::is_sorted(points.begin(), points.end(), by_step) ? 1 : 0)
                .bind(6, points.front().step).run();
        }
        // Their rollup buckets, also in this transaction (rollups.hpp).
        for (const auto& [id, i] : update_index)
            for (const StoredPoint& p : updates[i].points) rollups_->add(id, p);
        rollups_->flush();
        Stmt run_seq(*db_, "UPDATE runs SET last_seq=?, last_ms=MAX(COALESCE(last_ms,0),?) WHERE session_id=?");
        for (const auto& [session, t] : last_ms)
            run_seq.bind(1, last_seq_[session]).bind(2, t).bind(3, session).run();

        Stmt producer(*db_,
                      "UPDATE producers SET dropped=? WHERE segment=? AND pid=? AND start_time=?");
        for (const ProducerUpdate& u : batch.producers)
            producer.bind(1, u.dropped).bind(2, u.key.segment).bind(3, u.key.pid)
                .bind(4, u.key.start_time).run();
        Stmt lane(*db_,
                  "INSERT INTO producer_lanes(segment, pid, start_time, lane, consumed) "
                  "VALUES (?,?,?,?,?) ON CONFLICT(segment, pid, start_time, lane) "
                  "DO UPDATE SET consumed=excluded.consumed");
        for (const LaneUpdate& u : batch.lanes)
            lane.bind(1, u.key.segment).bind(2, u.key.pid).bind(3, u.key.start_time)
                .bind(4, static_cast<std::int64_t>(u.lane))
                .bind(5, static_cast<std::int64_t>(u.consumed)).run();

        for (const RunUpdate& r : batch.runs) {
            if (!r.config.empty())
                Stmt(*db_, "UPDATE runs SET config=? WHERE session_id=?").bind(1, r.config)
                    .bind(2, r.session_id).run();
            if (!r.model_info.empty())
                Stmt(*db_, "UPDATE runs SET model_info=? WHERE session_id=?").bind(1, r.model_info)
                    .bind(2, r.session_id).run();
            if (!r.status.empty())
                Stmt(*db_, "UPDATE runs SET status=?, ended_ms=? WHERE session_id=?")
                    .bind(1, r.status).bind(2, r.ended_ms).bind(3, r.session_id).run();
        }
        Stmt event(*db_, "INSERT INTO events(session_id, rank, t_ms, kind, text) VALUES (?,?,?,?,?)");
        for (const StoredEvent& e : batch.events)
            event.bind(1, e.session_id).bind(2, e.rank).bind(3, e.t_ms).bind(4, e.kind)
                .bind(5, e.text).run();
        tx.commit();
    } catch (...) {
        for (auto [counter, value] : saved_seq) *counter = value;
        point_writer_->reset();
        rollups_->discard();
        throw;
    }
    return updates;
}

std::vector<std::string> Store::running_sessions() {
    std::vector<std::string> out;
    Stmt find(*db_, "SELECT session_id FROM runs WHERE status='running'");
    while (find.step()) out.emplace_back(find.text(0));
    return out;
}

}  // namespace trainscope::agent
