// The agent's write side of the SQLite database: runs, producers (one per segment), series
// and points. One Store per agent, used from the collector thread only.
//
// Exactly-once: each lane's `consumed` position (table producer_lanes) is committed in the
// same transaction as the points read from it, so after a crash the collector resumes every
// lane from its stored position whatever the segment's own read positions say.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <optional>
#include <tuple>
#include <vector>

#include "store/run_meta.hpp"
#include "store/sqlite.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

class PointWriter;
class RollupWriter;

/// Identifies one producer segment for good (pid + process start time + segment name).
struct ProducerKey {
    std::string segment;
    std::int64_t pid;
    std::int64_t start_time;
};

struct ProducerUpdate {
    ProducerKey key;
    std::int64_t dropped;
};

/// One lane of a producer stored up to `consumed` (a position in that lane).
struct LaneUpdate {
    ProducerKey key;
    std::uint32_t lane;
    std::uint64_t consumed;
};

struct RunUpdate {
    std::string session_id;
    std::string status;       ///< empty: unchanged
    std::string config;       ///< empty: unchanged
    std::string model_info;   ///< empty: unchanged
    double ended_ms = 0;
};

struct StoredEvent {
    std::string session_id;
    int rank;
    double t_ms;
    std::string kind;
    std::string text;
};

/// One transaction's worth of work.
struct CommitBatch {
    std::vector<PendingPoint> points;
    std::vector<ProducerUpdate> producers;
    std::vector<LaneUpdate> lanes;
    std::vector<RunUpdate> runs;
    std::vector<StoredEvent> events;
    bool empty() const {
        return points.empty() && producers.empty() && lanes.empty() && runs.empty() &&
               events.empty();
    }
    /// Empties every list but keeps their capacity, so a batch can be reused pass after pass.
    void clear() {
        points.clear();
        producers.clear();
        lanes.clear();
        runs.clear();
        events.clear();
    }
};

class Store {
public:
    /// Opens or creates <dir>/trainscope.db in WAL mode. A database without rollups (an
    /// older agent's) gets them built first; `progress` hears how that goes.
    explicit Store(const std::string& path,
                   const std::function<void(const std::string&)>& progress = {});
    ~Store();

    /// Creates the tables if missing; adds what a database of an earlier agent lacks.
    static void create_schema(Db& db);

    /// Creates the run if new (ranks of one job share it); marks it running again otherwise.
    void register_run(const std::string& session_id, const std::string& name,
                      const std::string& host, std::int64_t pid, double started_ms);
    /// The stored consumed position of each of a producer's `lane_count` lanes; -1 for a lane
    /// with none stored (every lane of a new producer, which this registers).
    std::vector<std::int64_t> producer_consumed(const ProducerKey& key,
                                                const std::string& session_id, int rank,
                                                std::uint32_t lane_count);
    /// The id of series (session, rank, name), created on first use.
    std::int64_t series_id(const std::string& session_id, int rank, const std::string& name);

    /// Commits a batch in one transaction; returns the stored points grouped per series.
    std::vector<SeriesUpdate> commit(const CommitBatch& batch);

    /// Runs left "running" by an earlier agent whose producers are gone: the caller decides.
    std::vector<std::string> running_sessions();

    // Deleting runs (run_deletion.cpp).
    /// Deletes a run and everything stored with it (points, series, events, config, its
    /// producers) in one transaction; false if there is no such run.
    bool delete_run(const std::string& session_id);
    /// The seq of the run's newest stored point (0: none yet); nullopt for an unknown run.
    std::optional<std::int64_t> run_last_seq(const std::string& session_id);
    /// Gives the pages freed by deletions back to the file system (incremental vacuum) and
    /// truncates the WAL when no reader holds it.
    void reclaim_space();
    /// Bytes of the database's pages in use (the file once reclaim_space has run).
    std::int64_t size_bytes();
    /// Runs not "running", oldest last activity first: (session, ended or last point in ms).
    std::vector<std::pair<std::string, double>> ended_runs_oldest_first();

    // A user's name, notes and tags for a run (run_meta.cpp).
    /// Applies the edit in one transaction; false if there is no such run.
    bool edit_run(const std::string& session_id, const RunEdit& edit);

private:
    struct SeriesMeta {
        std::string session_id;
        int rank;
        std::string name;
    };
    static void add_series_stats(Db& db);
    static void create_run_meta(Db& db);
    /// New databases free pages incrementally; an older one is converted once (a VACUUM).
    void use_incremental_vacuum();
    std::unique_ptr<Db> db_;
    std::unique_ptr<PointWriter> point_writer_;
    std::unique_ptr<RollupWriter> rollups_;  ///< level-of-detail upkeep (rollups.hpp)
    std::map<std::tuple<std::string, int, std::string>, std::int64_t> series_ids_;
    std::map<std::int64_t, SeriesMeta> series_meta_;
    std::map<std::string, std::int64_t> last_seq_;
    /// The seq of the run's newest point (read from runs once), which commit advances.
    std::int64_t& last_seq(const std::string& session_id);
};

}  // namespace trainscope::agent
