// The collector: finds trainer segments in its namespace, drains their rings into the store,
// hands the slots back once stored, and tells listeners (WebSocket hub, plugins) what arrived.
//
// One thread. Each pass: discover new segments (at once through inotify, see shm_watch.hpp;
// else every scan interval), beat in each attached segment, drain every lane of
// every attached segment, commit one transaction (points plus each lane's new position),
// release the drained slots lane by lane, notify listeners. Listeners must not block: they
// copy and return. Records carry wall-clock time from the trainer: no conversion here.
//
// Only the user's own segments are attached (SegmentReader::open checks owner, type and
// mode on the opened descriptor); anything else with our prefix is refused with one log line
// and not looked at again until its name goes away. A segment truncated while attached is
// detected before each pass (and a read racing the truncate is contained, see
// sigbus_guard.hpp): its run ends "crashed" with a "segment_truncated" event.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

// detail::now_unix_ns(): the collector's wall clock.
#include <trainscope/detail/clock.hpp>

#include "ingest/segment_reader.hpp"
#include "ingest/shm_watch.hpp"
#include "ingest/storage_outage.hpp"
#include "store/store.hpp"
#include "store/types.hpp"

namespace Poco {
class Logger;
}

namespace trainscope::agent {

class CollectorListener {
public:
    virtual ~CollectorListener() = default;
    /// Points just committed, grouped per series.
    virtual void on_points(const std::vector<SeriesUpdate>& updates) = 0;
    /// kind is "run_started" or "run_ended".
    virtual void on_run_event(const std::string& kind, const std::string& session_id) = 0;
};

struct CollectorOptions {
    std::string name_space;
    std::string shm_dir = "/dev/shm";
    std::chrono::milliseconds scan_interval{50};
    std::chrono::milliseconds liveness_interval{250};
    std::chrono::milliseconds idle_sleep{1};
    std::size_t max_records_per_pass = 1u << 18;
    /// Retention (run_removal.cpp): ended runs older than this many days are deleted (0: kept).
    int retain_days = 0;
    /// Retention: while the database is larger, the oldest ended runs are deleted (0: no cap).
    std::int64_t max_db_bytes = 0;
    /// How often retention is checked (and once at start).
    std::chrono::milliseconds retention_interval{std::chrono::hours(1)};
    /// The host stored with runs (--host-name); empty: this machine's node name.
    std::string host_name;
};

/// The trainer process behind one attached segment (a rank of a live run on this host).
struct LiveProducer {
    std::int64_t pid;
    int rank;
    std::uint64_t start_time;  ///< clock ticks since boot (/proc/<pid>/stat field 22), from the segment
};

/// What became of a request to delete a run.
enum class RemoveOutcome {
    removed, unknown, live, store_failed,
    not_forwarded  ///< --postgres: the run's points or its end are not in PostgreSQL yet
};

/// What became of a request to edit a run's name, notes or tags.
enum class EditOutcome { updated, unknown, store_failed };

/// Counters for /metrics and /healthz.
struct CollectorStats {
    std::atomic<std::uint64_t> points_stored{0};
    std::atomic<std::uint64_t> commits{0};
    std::atomic<std::uint64_t> segments_attached{0};
    std::atomic<std::uint64_t> segments_refused{0};
    std::atomic<std::uint64_t> records_corrupt{0};
    std::atomic<std::uint64_t> records_lost{0};   ///< claimed by a producer that died mid-write
    std::atomic<std::uint64_t> store_errors{0};
};

class Collector {
public:
    Collector(Store& store, CollectorOptions options, Poco::Logger& log);
    ~Collector();

    /// Listeners are added before start().
    void add_listener(CollectorListener* listener) { listeners_.push_back(listener); }
    /// With forwarding (--postgres): whether PostgreSQL holds an ended run up to its newest seq.
    /// A run it does not hold is never deleted here (retention skips it, DELETE gets 409): the
    /// local store is the spool. Set before start().
    void set_forwarded_check(std::function<bool(const std::string&, std::int64_t)> check) {
        forwarded_ = std::move(check);
    }
    void start();
    void stop();

    const CollectorStats& stats() const { return stats_; }
    /// Whether commits go through; while they do not, points wait in the rings.
    const StorageOutage& storage() const { return outage_; }
    /// Queues a derived point (from a plugin) for series (session, rank 0, name); stored with
    /// the next commit. Thread-safe, never blocks on the store.
    void inject_point(const std::string& session, const std::string& name, std::int64_t step, double value);
    /// Queues an event to keep with a run (e.g. an alert). Thread-safe.
    void inject_event(const std::string& session, const std::string& kind, const std::string& text);

    /// Records dropped by producers (ring full), per session, for live runs.
    std::map<std::string, std::uint64_t> live_dropped() const;

    /// The producers of a run attached now, until their segment is stored and removed (a
    /// producer that just died may still be listed: check its start time). Thread-safe.
    std::vector<LiveProducer> live_producers(const std::string& session_id) const;

    /// Deletes a run on the collector thread (the database's one writer), between passes.
    /// A run with a live producer is refused (RemoveOutcome::live). Thread-safe.
    std::future<RemoveOutcome> remove_run(const std::string& session_id);
    /// Applies a user's edit of a run (name, notes, tags) on the collector thread, between
    /// passes; listeners then hear "run_updated". Thread-safe.
    std::future<EditOutcome> edit_run(const std::string& session_id, RunEdit edit);

private:
    struct Attached;

    void loop();
    /// Whether to scan now: the interval is up, inotify saw a new segment, or one found
    /// earlier is still being filled in by its creator (pending_: looked at every pass).
    bool scan_due(std::chrono::steady_clock::time_point now);
    /// The heartbeat every attached segment's trainer watches (block policy).
    void beat();
    void scan();
    /// inode: the directory entry's, as scan() saw it (see refused_).
    void attach(const std::string& name, std::uint64_t inode);
    /// One pass; after a store error, rewinds to what is committed and rethrows.
    bool pass();
    struct PassTally {
        static constexpr std::size_t kNotTaken = static_cast<std::size_t>(-1);
        std::uint64_t unread = 0;       ///< in the rings, not drained yet
        std::uint64_t uncommitted = 0;  ///< drained, not stored yet
        std::size_t first_injected_event = kNotTaken;  ///< where plugins' events start in the batch
    };
    bool drain_and_commit(std::vector<std::unique_ptr<Attached>>& closing, PassTally& tally);
    void check_liveness(Attached& a, std::chrono::steady_clock::time_point now);
    std::int64_t series_for(Attached& a, std::uint32_t metric_id);
    /// The producer is done (or its segment is damaged): settles its run's status once its
    /// last producer is done and moves it to `closing`.
    void end_producer(std::unique_ptr<Attached>& ap, bool finished, CommitBatch& batch,
                      std::vector<std::unique_ptr<Attached>>& closing);
    void close_finished(std::vector<std::unique_ptr<Attached>>& closing);
    /// Drops a closed producer from live_ (what live_producers() answers).
    void forget_live(const Attached& a);
    /// After a commit: hands each lane's newly stored slots back to the producer.
    void release_committed(Attached& a);
    /// After a failed commit (or a store error before it): forgets everything read since the
    /// last commit, so the next pass reads it again; nothing is handed back to a producer.
    void rewind_uncommitted(std::vector<std::unique_ptr<Attached>>& closing,
                            std::size_t first_injected_event);
    void notify_run(const std::string& kind, const std::string& session_id);

    Store& store_;
    CollectorOptions options_;
    Poco::Logger& log_;
    std::string host_;
    std::vector<CollectorListener*> listeners_;
    std::vector<std::unique_ptr<Attached>> attached_;
    /// Refused (or detached as damaged) files: name -> inode. Not tried again while that
    /// name names that inode; a file that goes away, or is replaced by a new one of the same
    /// name (a new inode), is looked at afresh.
    std::map<std::string, std::uint64_t> refused_;
    std::map<std::string, std::chrono::steady_clock::time_point> pending_;  ///< version still 0
    std::map<std::string, int> producers_per_session_;
    std::set<std::string> crashed_sessions_;
    std::set<std::string> failed_sessions_;  ///< a rank finished its run as failed
    std::chrono::steady_clock::time_point next_scan_{};
    std::unique_ptr<ShmWatch> shm_watch_;  ///< new segments at once; null or inactive: scans only
    bool first_scan_done_ = false;
    CollectorStats stats_;
    StorageOutage outage_;
    mutable std::mutex dropped_mutex_;
    std::map<std::string, std::uint64_t> dropped_;
    mutable std::mutex live_mutex_;
    std::map<std::string, std::vector<LiveProducer>> live_;  ///< session -> attached producers
    struct Injected {
        std::string session, name;
        std::int64_t step;
        double value;
        std::int64_t t_us;
    };
    std::mutex inject_mutex_;
    std::vector<Injected> injected_points_;
    std::vector<StoredEvent> injected_events_;
    void take_injected(CommitBatch& batch);

    // Deleting runs (run_removal.cpp): requests from HTTP threads, and retention.
    void serve_removals(std::chrono::steady_clock::time_point now);
    RemoveOutcome remove_now(const std::string& session_id);
    std::function<bool(const std::string&, std::int64_t)> forwarded_;
    std::set<std::string> retention_held_;  ///< runs retention waits to forward (logged once)
    void apply_retention();
    std::mutex removal_mutex_;
    std::vector<std::pair<std::string, std::promise<RemoveOutcome>>> removals_;
    std::atomic<bool> removals_waiting_{false};  ///< removals_ may hold requests
    std::chrono::steady_clock::time_point next_retention_{};  ///< zero: at the first pass
    // Editing runs (run_edits.cpp): requests from HTTP threads, served like deletions.
    struct EditRequest {
        std::string session_id;
        RunEdit edit;
        std::promise<EditOutcome> done;
    };
    void serve_edits();
    void fail_pending_edits();
    std::mutex edit_mutex_;
    std::vector<EditRequest> edits_;
    std::atomic<bool> edits_waiting_{false};  ///< edits_ may hold requests
    // Reused pass after pass (cleared, never shrunk): a pass allocates nothing once warm.
    CommitBatch batch_;
    std::vector<Record> records_;
    std::vector<EventRecord> events_;
    std::vector<Injected> injected_swap_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace trainscope::agent
