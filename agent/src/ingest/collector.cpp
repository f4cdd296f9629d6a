#include "ingest/collector.hpp"

#include <Poco/Environment.h>
#include <Poco/Logger.h>

#include <dirent.h>

#include <trainscope/detail/clock.hpp>
#include <trainscope/detail/process.hpp>
#include <trainscope/detail/session_id.hpp>

namespace trainscope::agent {

using Clock = std::chrono::steady_clock;

struct Collector::Attached {
    std::unique_ptr<SegmentReader> reader;
    ProducerKey key;
    std::string session_id;
    int rank = 0;
    LaneCursors cursor;     ///< per lane: drained up to here
    LaneCursors committed;  ///< per lane: stored (and released) up to here
    std::vector<std::int64_t> series_ids;  ///< metric id -> series id, -1 if not yet known
    // Blob generations and the event position: read up to here, and stored up to here.
    // Only a commit moves the stored ones; a failed one rewinds to them.
    std::uint32_t config_generation = 0, stored_config_generation = 0;
    std::uint32_t model_generation = 0, stored_model_generation = 0;
    std::uint64_t event_cursor = 0, stored_event_cursor = 0;
    bool dead = false;
    Clock::time_point next_liveness{};
    std::uint64_t lost = 0;
    std::uint64_t inode = 0;  ///< of the segment's file, as scan() saw it
    std::string damage;       ///< non-empty: the segment was truncated; read nothing more from it
};

Collector::Collector(Store& store, CollectorOptions options, Poco::Logger& log)
    : store_(store), options_(std::move(options)), log_(log), host_(Poco::Environment::nodeName()) {}

Collector::~Collector() { stop(); }

void Collector::start() { thread_ = std::thread([this] { loop(); }); }

void Collector::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    // Deletions asked for after the last pass are not done: say so rather than leave them waiting.
    std::lock_guard<std::mutex> lock(removal_mutex_);
    for (auto& [session, promise] : removals_) promise.set_value(RemoveOutcome::store_failed);
    removals_.clear();
}

std::vector<LiveProducer> Collector::live_producers(const std::string& session_id) const {
    std::lock_guard<std::mutex> lock(live_mutex_);
    auto it = live_.find(session_id);
    return it == live_.end() ? std::vector<LiveProducer>{} : it->second;
}

std::map<std::string, std::uint64_t> Collector::live_dropped() const {
    std::lock_guard<std::mutex> lock(dropped_mutex_);
    return dropped_;
}

void Collector::loop() {
    shm_watch_ = std::make_unique<ShmWatch>(options_.shm_dir, detail::segment_prefix(options_.name_space));
    if (!shm_watch_->active())
        log_.warning("collector: %s; new segments are found by scanning every %s ms instead",
                     shm_watch_->error(), std::to_string(options_.scan_interval.count()));
    bool failing = false;  // the last store write failed
    while (!stop_) {
        Clock::time_point now = Clock::now();
        // Beats even while storage backs off: a blocking trainer must not give its agent up.
        beat();
        bool moved = false;
        if (outage_.may_try(now)) {
            try {
                if (scan_due(now)) {
                    scan();
                    next_scan_ = now + options_.scan_interval;
                }
                serve_removals(now);
                moved = pass();
                if (failing) {
                    StorageOutage::Snapshot was = outage_.snapshot();
                    outage_.succeeded();
                    failing = false;
                    log_.information("storage: writing again after %.1f s of failed commits",
                                     was.outage_seconds);
                }
            } catch (const std::exception& e) {
                // Disk full, I/O error, read-only file: nothing read since the last commit was
                // handed back, so the points wait in the rings. Once per outage in the log.
                ++stats_.store_errors;
                failing = true;
                if (outage_.failed(e.what(), now))
                    log_.error("storage: cannot write (%s); points wait in the trainers' rings (a "
                               "trainer drops only once its ring is full); retrying with backoff",
                               std::string(e.what()));
            }
        }
        // Backing off: no need to wake every idle_sleep just to find it is not time yet.
        if (!moved) std::this_thread::sleep_for(failing ? std::chrono::milliseconds(10) : options_.idle_sleep);
    }
}

bool Collector::scan_due(Clock::time_point now) {
    bool appeared = shm_watch_ && shm_watch_->appeared();  // always read: drains its queue
    return appeared || !pending_.empty() || now >= next_scan_;
}

void Collector::beat() {
    for (const auto& a : attached_)
        if (a && a->damage.empty()) a->reader->beat();
}

void Collector::scan() {
    std::string prefix = detail::segment_prefix(options_.name_space);
    std::map<std::string, std::uint64_t> present;  // name -> inode
    if (DIR* dir = opendir(options_.shm_dir.c_str())) {
        while (dirent* e = readdir(dir)) {
            std::string name = e->d_name;
            // The agent's own lock lives elsewhere now (namespace_dir.hpp): a "<ns>.agent" here
            // is a leftover or a plant, and is checked like any other candidate.
            if (name.compare(0, prefix.size(), prefix) == 0 && !detail::of_longer_namespace(name, options_.name_space))
                present.emplace(name, static_cast<std::uint64_t>(e->d_ino));
        }
        closedir(dir);
    }
    // Forget refusals of files that are gone or replaced, so a new file of that name is tried.
    for (auto it = refused_.begin(); it != refused_.end();) {
        auto found = present.find(it->first);
        it = found != present.end() && found->second == it->second ? std::next(it)
                                                                   : refused_.erase(it);
    }
    // A segment that went away before its creator published it is no longer waited for
    // (pending_ makes every pass scan).
    for (auto it = pending_.begin(); it != pending_.end();)
        it = present.count(it->first) ? std::next(it) : pending_.erase(it);
    for (const auto& a : attached_) present.erase(a->reader->name());
    for (const auto& [name, inode] : present)
        if (!refused_.count(name)) attach(name, inode);

    if (!first_scan_done_) {
        // Runs an earlier agent left "running" whose trainer segment is gone ended unseen.
        CommitBatch batch;
        for (const std::string& session : store_.running_sessions())
            if (!producers_per_session_.count(session))
                batch.runs.push_back(RunUpdate{session, "crashed", "", "", 0});
        if (!batch.runs.empty()) store_.commit(batch);
        first_scan_done_ = true;  // only once committed: a failed commit is tried again
    }
}

void Collector::attach(const std::string& name, std::uint64_t inode) {
    std::string why;
    bool not_ready = false;
    auto reader = SegmentReader::open(options_.shm_dir, name, &why, &not_ready);
    if (!reader) {
        if (not_ready) {
            auto [it, fresh] = pending_.emplace(name, Clock::now());
            if (fresh || Clock::now() - it->second < std::chrono::seconds(2)) return;
            why += " for more than 2 s";
        }
        pending_.erase(name);
        refused_[name] = inode;
        ++stats_.segments_refused;
        log_.warning("refusing segment %s: %s", name, why);
        return;
    }
    pending_.erase(name);
    auto a = std::make_unique<Attached>();
    const layout::Identity& id = reader->identity();
    a->key = ProducerKey{name, id.producer_pid, static_cast<std::int64_t>(id.producer_start)};
    a->session_id = reader->session_id();
    a->inode = inode;
    a->rank = id.rank;
    if (!detail::valid_session_id(a->session_id)) {
        refused_[name] = inode;
        ++stats_.segments_refused;
        log_.warning("refusing segment %s: invalid session id", name);
        return;
    }
    store_.register_run(a->session_id, reader->run_name(), host_, id.producer_pid,
                        static_cast<double>(id.anchor_unix_ns) / 1e6);
    std::uint32_t lanes = reader->lane_count();
    std::vector<std::int64_t> consumed =
        store_.producer_consumed(a->key, a->session_id, a->rank, lanes);
    a->cursor.assign(lanes, 0);
    std::uint64_t resumed = 0;
    for (std::uint32_t k = 0; k < lanes; ++k) {
        // The stored position wins: it is committed with the points, the segment's is not.
        std::uint64_t start =
            consumed[k] >= 0 ? static_cast<std::uint64_t>(consumed[k]) : reader->read_pos(k);
        if (start > reader->write_pos(k)) start = reader->read_pos(k);  // stale row: trust the segment
        reader->release(k, start);
        a->cursor[k] = start;
        resumed += start;
    }
    a->committed = a->cursor;
    a->event_cursor = a->stored_event_cursor = reader->event_read_pos();
    a->series_ids.assign(layout::kMaxMetrics, -1);
    a->reader = std::move(reader);
    ++stats_.segments_attached;
    bool new_session = producers_per_session_[a->session_id]++ == 0;
    log_.information("attached segment %s (run %s, rank %d, pid %d, %s lanes), %s records already stored",
                     name, a->session_id, a->rank, static_cast<int>(a->key.pid),
                     std::to_string(lanes), std::to_string(resumed));
    {
        std::lock_guard<std::mutex> lock(live_mutex_);
        live_[a->session_id].push_back(
            LiveProducer{a->key.pid, a->rank, static_cast<std::uint64_t>(a->key.start_time)});
    }
    attached_.push_back(std::move(a));
    if (new_session) notify_run("run_started", attached_.back()->session_id);
}

void Collector::check_liveness(Attached& a, Clock::time_point now) {
    if (a.dead || now < a.next_liveness) return;
    a.next_liveness = now + options_.liveness_interval;
    a.dead = !detail::process_alive(static_cast<long>(a.key.pid),
                                    static_cast<std::uint64_t>(a.key.start_time));
}

std::int64_t Collector::series_for(Attached& a, std::uint32_t metric_id) {
    if (metric_id >= layout::kMaxMetrics || metric_id >= a.reader->metric_count()) return -1;
    std::int64_t& id = a.series_ids[metric_id];
    if (id < 0) {
        std::string name = a.reader->metric_name(metric_id);
        if (name.empty()) return -1;
        id = store_.series_id(a.session_id, a.rank, name);
    }
    return id;
}

void Collector::inject_point(const std::string& session, const std::string& name, std::int64_t step,
                             double value) {
    std::lock_guard<std::mutex> lock(inject_mutex_);
    if (injected_points_.size() >= 1'000'000) return;  // the collector is stuck; do not grow
    injected_points_.push_back(Injected{session, name, step, value, detail::now_unix_ns() / 1000});
}

void Collector::inject_event(const std::string& session, const std::string& kind, const std::string& text) {
    std::lock_guard<std::mutex> lock(inject_mutex_);
    if (injected_events_.size() >= 10'000) return;
    injected_events_.push_back(StoredEvent{session, 0, static_cast<double>(detail::now_unix_ns()) / 1e6, kind, text});
}

void Collector::take_injected(CommitBatch& batch) {
    injected_swap_.clear();
    {
        std::lock_guard<std::mutex> lock(inject_mutex_);
        injected_swap_.swap(injected_points_);
        for (auto& e : injected_events_) batch.events.push_back(std::move(e));
        injected_events_.clear();
    }
    for (const Injected& p : injected_swap_)
        batch.points.push_back(PendingPoint{store_.series_id(p.session, 0, p.name), p.step, p.t_us, p.value});
}

bool Collector::pass() {
    std::vector<std::unique_ptr<Attached>> closing;
    PassTally tally;
    try {
        return drain_and_commit(closing, tally);
    } catch (...) {
        // Nothing was stored: read the same again next pass.
        rewind_uncommitted(closing, tally.first_injected_event);
        outage_.set_waiting(tally.unread + tally.uncommitted);
        throw;
    }
}

bool Collector::drain_and_commit(std::vector<std::unique_ptr<Attached>>& closing, PassTally& tally) {
    CommitBatch& batch = batch_;
    batch.clear();
    Clock::time_point now = Clock::now();
    std::size_t budget = options_.max_records_per_pass;

    for (auto& ap : attached_) {
        Attached& a = *ap;
        // Before any read: a segment that shrank would fault on it (SIGBUS).
        a.damage = a.reader->damage();
        if (!a.damage.empty()) {
            end_producer(ap, false, batch, closing);
            continue;
        }
        check_liveness(a, now);
        records_.clear();
        // Read end-of-life state before draining: a finished flag seen here means every
        // record the producer will ever publish is already visible to the drain below.
        bool finished = a.reader->finished();
        a.reader->drain(a.cursor, budget, a.dead, records_, &a.lost);
        budget -= std::min(budget, records_.size());
        for (std::uint32_t k = 0; k < a.cursor.size(); ++k) {
            std::uint64_t written = a.reader->write_pos(k);
            tally.unread += written > a.cursor[k] ? written - a.cursor[k] : 0;
            tally.uncommitted += a.cursor[k] - a.committed[k];
        }
        for (const Record& r : records_) {
            std::int64_t series = series_for(a, r.metric_id);
            if (series < 0) {
                ++stats_.records_corrupt;
                continue;
            }
            batch.points.push_back(PendingPoint{series, r.step, r.unix_ns / 1000, r.value});
        }

        RunUpdate run{a.session_id, "", "", "", 0};
        std::string text;
        if (a.reader->read_config(&a.config_generation, &text)) run.config = std::move(text);
        if (a.reader->read_model_info(&a.model_generation, &text)) run.model_info = std::move(text);
        if (!run.config.empty() || !run.model_info.empty()) batch.runs.push_back(std::move(run));

        events_.clear();
        a.reader->read_events(a.event_cursor, events_);
        for (const EventRecord& e : events_)
            batch.events.push_back(StoredEvent{a.session_id, a.rank,
                                               static_cast<double>(e.unix_ns) / 1e6, e.kind, e.text});

        std::int64_t dropped = static_cast<std::int64_t>(a.reader->dropped());
        bool moved = false;
        for (std::uint32_t k = 0; k < a.cursor.size(); ++k)
            if (a.cursor[k] != a.committed[k]) {
                batch.lanes.push_back(LaneUpdate{a.key, k, a.cursor[k]});
                moved = true;
            }
        bool drained = a.reader->drained(a.cursor);
        // Truncated during the reads above: what was read before the fault is genuine (a
        // faulted page reads as zeros, i.e. unpublished); keep it and detach.
        if (a.reader->faulted()) a.damage = a.reader->damage();
        bool closes = ((finished || a.dead) && drained) || !a.damage.empty();
        if (moved || closes) batch.producers.push_back(ProducerUpdate{a.key, dropped});
        {
            std::lock_guard<std::mutex> lock(dropped_mutex_);
            dropped_[a.session_id] = static_cast<std::uint64_t>(dropped);
        }
        if (closes) end_producer(ap, finished, batch, closing);
    }
    attached_.erase(std::remove(attached_.begin(), attached_.end(), nullptr), attached_.end());
    tally.first_injected_event = batch.events.size();
    take_injected(batch);
    outage_.set_waiting(tally.unread + tally.uncommitted);
    if (batch.empty()) return false;

    std::vector<SeriesUpdate> updates = store_.commit(batch);
    outage_.set_waiting(tally.unread);
    ++stats_.commits;
    stats_.points_stored += batch.points.size();
    for (auto& a : attached_) release_committed(*a);
    for (const auto& listener : listeners_) listener->on_points(updates);
    close_finished(closing);
    return !batch.points.empty();
}

void Collector::rewind_uncommitted(std::vector<std::unique_ptr<Attached>>& closing,
                                   std::size_t first_injected_event) {
    // An exception part way through the loop leaves moved-out (null) entries behind.
    attached_.erase(std::remove(attached_.begin(), attached_.end(), nullptr), attached_.end());
    for (auto& a : closing) {
        ++producers_per_session_[a->session_id];
        attached_.push_back(std::move(a));
    }
    closing.clear();
    for (auto& a : attached_) {
        a->cursor = a->committed;
        a->config_generation = a->stored_config_generation;
        a->model_generation = a->stored_model_generation;
        a->event_cursor = a->stored_event_cursor;
    }
    if (first_injected_event == PassTally::kNotTaken) return;
    // Plugins' points and events go back to the front of their queues, in order.
    std::lock_guard<std::mutex> lock(inject_mutex_);
    injected_points_.insert(injected_points_.begin(), injected_swap_.begin(), injected_swap_.end());
    injected_swap_.clear();
    auto first = batch_.events.begin() + static_cast<std::ptrdiff_t>(first_injected_event);
    injected_events_.insert(injected_events_.begin(), std::make_move_iterator(first),
                            std::make_move_iterator(batch_.events.end()));
}

void Collector::end_producer(std::unique_ptr<Attached>& ap, bool finished, CommitBatch& batch,
                             std::vector<std::unique_ptr<Attached>>& closing) {
    Attached& a = *ap;
    if (!a.damage.empty()) {
        crashed_sessions_.insert(a.session_id);
        batch.events.push_back(StoredEvent{
            a.session_id, a.rank, static_cast<double>(detail::now_unix_ns()) / 1e6,
            "segment_truncated",
            "segment " + a.reader->name() + " " + a.damage + "; its remaining points are lost"});
    } else if (!finished) {
        crashed_sessions_.insert(a.session_id);
    } else if (a.reader->failed()) {
        failed_sessions_.insert(a.session_id);
    }
    if (--producers_per_session_[a.session_id] == 0) {
        // One rank's fate is the run's: crashed over failed over finished.
        const char* status = crashed_sessions_.count(a.session_id)  ? "crashed"
                             : failed_sessions_.count(a.session_id) ? "failed"
                                                                    : "finished";
        batch.runs.push_back(RunUpdate{a.session_id, status, "", "",
                                       static_cast<double>(detail::now_unix_ns()) / 1e6});
    }
    closing.push_back(std::move(ap));
}

void Collector::release_committed(Attached& a) {
    for (std::uint32_t k = 0; k < a.cursor.size(); ++k)
        if (a.cursor[k] != a.committed[k]) {
            a.reader->release(k, a.cursor[k]);
            a.committed[k] = a.cursor[k];
        }
    if (a.event_cursor != a.stored_event_cursor) {
        a.reader->release_events(a.event_cursor);
        a.stored_event_cursor = a.event_cursor;
    }
    a.stored_config_generation = a.config_generation;
    a.stored_model_generation = a.model_generation;
}

void Collector::close_finished(std::vector<std::unique_ptr<Attached>>& closing) {
    for (auto& a : closing) {
        forget_live(*a);
        if (!a->damage.empty()) {
            // Its memory is gone: no read positions to hand back. The file is left as found
            // (someone else truncated it) and not attached again while its name exists.
            refused_[a->reader->name()] = a->inode;
            log_.warning(
                "segment %s %s; its remaining points are lost (run %s rank %d ends crashed)",
                a->reader->name(), a->damage, a->session_id, a->rank);
        } else {
            release_committed(*a);
            a->reader->remove();
            if (a->lost) stats_.records_lost += a->lost;
            log_.information("run %s rank %d %s; segment %s stored and removed%s", a->session_id,
                             a->rank,
                             std::string(!a->reader->finished() ? "crashed"
                                         : a->reader->failed()  ? "failed"
                                                                : "finished"),
                             a->reader->name(),
                             a->lost ? " (" + std::to_string(a->lost) + " slots never published)"
                                     : std::string());
        }
        if (producers_per_session_[a->session_id] == 0) {
            producers_per_session_.erase(a->session_id);
            crashed_sessions_.erase(a->session_id);
            failed_sessions_.erase(a->session_id);
            {
                std::lock_guard<std::mutex> lock(dropped_mutex_);
                dropped_.erase(a->session_id);
            }
            notify_run("run_ended", a->session_id);
        }
    }
}

void Collector::forget_live(const Attached& a) {
    std::lock_guard<std::mutex> lock(live_mutex_);
    auto it = live_.find(a.session_id);
    if (it == live_.end()) return;
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const LiveProducer& p) {
                                  return p.pid == a.key.pid && p.rank == a.rank &&
                                         p.start_time == static_cast<std::uint64_t>(a.key.start_time);
                              }),
               list.end());
    if (list.empty()) live_.erase(it);
}

void Collector::notify_run(const std::string& kind, const std::string& session_id) {
    for (const auto& listener : listeners_) listener->on_run_event(kind, session_id);
}

}  // namespace trainscope::agent
