// The node agent's forwarding thread (--postgres): ships what the collector committed to the
// local SQLite on to PostgreSQL, exactly once. The local store is the spool: while PostgreSQL
// is away, points wait there and `behind` grows; when it is back, batches go out back to back
// until the agent has caught up.
//
// Exactly once: the shipped position of each run (run_nodes.shipped_seq), the events cursor and
// the ledger row (agent_id, batch_seq) are written in the same PostgreSQL transaction as the
// points. PostgreSQL is the only record of what was shipped: on every (re)connection the
// shipper reads its positions back from there, so an agent killed at any moment, a lost
// connection or a COMMIT whose answer never came cannot skip or repeat a point. A batch whose
// ledger row already exists is refused whole (write_batch), and the shipper re-reads its state.
//
// Thread-safety: start/stop from one thread; snapshot() and the counters from any thread.
#pragma once

#include <Poco/Logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "forward/ship_batch.hpp"
#include "forward/spool_reader.hpp"
#include "ingest/storage_outage.hpp"

namespace trainscope::agent {

class PgConnection;

struct ShipperOptions {
    std::string conninfo;   ///< libpq URI or key=value string
    std::string db_path;    ///< the agent's trainscope.db
    std::string agent_id;
    std::string host;       ///< what the agent's runs and series say they ran on
    std::chrono::milliseconds interval{500};   ///< between batches once caught up
    std::int64_t max_batch_points = 100'000;   ///< a bigger backlog goes in several batches
};

class Shipper {
public:
    Shipper(ShipperOptions options, Poco::Logger& log);
    ~Shipper();
    Shipper(const Shipper&) = delete;
    Shipper& operator=(const Shipper&) = delete;

    /// Leaves these plugins' derived series and alerts unshipped (plugin_output_filter.hpp);
    /// call before start().
    void keep_local(std::set<std::string> plugins) { local_plugins_ = std::move(plugins); }

    void start();
    void stop();

    /// ok: the last attempt went through; waiting_points: committed locally, not yet shipped.
    StorageOutage::Snapshot snapshot() const { return outage_.snapshot(); }
    std::uint64_t shipped_points() const { return shipped_points_.load(std::memory_order_relaxed); }
    std::uint64_t shipped_batches() const { return shipped_batches_.load(std::memory_order_relaxed); }
    const ShipperOptions& options() const { return options_; }
    /// True once PostgreSQL holds the run's points up to `last_seq` and its end (as this agent
    /// last committed or read back); false while not connected yet. A run may leave the local
    /// store (retention, DELETE) only then, or the spool would lose what it never shipped.
    bool holds_ended_run(const std::string& session_id, std::int64_t last_seq) const;

private:
    /// What PostgreSQL holds of one run from this agent.
    struct Shipped {
        std::int64_t seq = 0;
        std::string status;
        double ended_ms = -1;
        double last_ms = -1;
        bool shared_row = false;  ///< trainscope.runs has the run
        std::string config_md5, model_md5;
    };

    void loop();
    /// Ships one batch if there is anything to ship; true if more is waiting.
    bool ship_once();
    void connect();
    void load_state();
    void count_behind();
    std::uint64_t behind(const std::vector<SpoolRun>& runs) const;
    /// Adds run `r`'s row and its points (within `budget`) to the batch; returns points added.
    std::int64_t add_run(ShipBatch& batch, const SpoolRun& r, std::int64_t budget);
    /// Replaces local series ids in the batch by PostgreSQL's, registering new series.
    void map_series(ShipBatch& batch);
    void wait_interval();

    ShipperOptions options_;
    Poco::Logger& log_;
    std::unique_ptr<PgConnection> pg_;
    std::unique_ptr<SpoolReader> spool_;
    std::map<std::string, Shipped> shipped_;  ///< written by the thread under shipped_mutex_
    mutable std::mutex shipped_mutex_;          ///< for holds_ended_run() on other threads
    std::map<std::int64_t, std::int64_t> series_ids_;  ///< local id -> trainscope.series.id (-1: kept local)
    std::set<std::string> local_plugins_;
    std::int64_t next_batch_seq_ = 1;
    std::int64_t events_rowid_ = 0;
    bool state_loaded_ = false;
    std::vector<SpoolPoint> scratch_;  ///< a run's points, reused batch after batch

    StorageOutage outage_;
    std::atomic<std::uint64_t> shipped_points_{0};
    std::atomic<std::uint64_t> shipped_batches_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace trainscope::agent
