// Deleting runs, on the collector thread: the database has one writer, and the store's caches
// of series ids and seqs live there too. Requests come from HTTP threads (DELETE
// /api/runs/{id}); retention (--retain-days, --max-db-size) is checked at start and then every
// retention_interval, and deletes the oldest ended runs first, never a live one.
#include <Poco/Logger.h>

#include <cmath>

#include "ingest/collector.hpp"

namespace trainscope::agent {

std::future<RemoveOutcome> Collector::remove_run(const std::string& session_id) {
    std::promise<RemoveOutcome> promise;
    std::future<RemoveOutcome> result = promise.get_future();
    std::lock_guard<std::mutex> lock(removal_mutex_);
    removals_.emplace_back(session_id, std::move(promise));
    removals_waiting_ = true;
    return result;
}

void Collector::serve_removals(std::chrono::steady_clock::time_point now) {
    // Every pass comes here: an atomic read, no lock, while nobody asked for a deletion.
    if (removals_waiting_.exchange(false)) {
        std::vector<std::pair<std::string, std::promise<RemoveOutcome>>> requests;
        {
            std::lock_guard<std::mutex> lock(removal_mutex_);
            requests.swap(removals_);
        }
        for (auto& [session, promise] : requests) promise.set_value(remove_now(session));
    }
    if (now < next_retention_) return;
    next_retention_ = now + options_.retention_interval;
    if (options_.retain_days > 0 || options_.max_db_bytes > 0) apply_retention();
    // Runs held back until PostgreSQL has them are looked at again within a minute, not an hour.
    if (!retention_held_.empty())
        next_retention_ = std::min(next_retention_, now + std::chrono::milliseconds(std::chrono::minutes(1)));
}

RemoveOutcome Collector::remove_now(const std::string& session_id) {
    // A live run would be stored again by its next pass, half deleted.
    auto live = producers_per_session_.find(session_id);
    if (live != producers_per_session_.end() && live->second > 0) return RemoveOutcome::live;
    try {
        if (forwarded_) {
            std::optional<std::int64_t> last_seq = store_.run_last_seq(session_id);
            if (!last_seq) return RemoveOutcome::unknown;
            if (!forwarded_(session_id, *last_seq)) return RemoveOutcome::not_forwarded;
        }
        if (!store_.delete_run(session_id)) return RemoveOutcome::unknown;
        store_.reclaim_space();
    } catch (const std::exception& e) {
        log_.error("deleting run %s failed: %s", session_id, std::string(e.what()));
        return RemoveOutcome::store_failed;
    }
    // Open pages drop it from their run lists; plugins and the hub forget what they keep of it.
    notify_run("run_deleted", session_id);
    return RemoveOutcome::removed;
}

void Collector::apply_retention() {
    try {
        double now_ms = static_cast<double>(detail::now_unix_ns()) / 1e6;
        double cutoff_ms = now_ms - options_.retain_days * 86'400'000.0;
        for (const auto& [session, last_ms] : store_.ended_runs_oldest_first()) {
            bool too_old = options_.retain_days > 0 && last_ms < cutoff_ms;
            bool too_big = options_.max_db_bytes > 0 && store_.size_bytes() > options_.max_db_bytes;
            if (!too_old && !too_big) break;  // oldest first: the rest are newer
            RemoveOutcome outcome = remove_now(session);
            if (outcome == RemoveOutcome::not_forwarded && retention_held_.insert(session).second)
                log_.information("retention: keeping run %s until PostgreSQL holds all of it", session);
            if (outcome != RemoveOutcome::removed) continue;
            retention_held_.erase(session);
            log_.information("retention: deleted run %s (ended %s days ago; %s)", session,
                             std::to_string(static_cast<long>(std::floor((now_ms - last_ms) / 86'400'000.0))),
                             std::string(too_old ? "older than --retain-days" : "database over --max-db-size"));
        }
    } catch (const std::exception& e) {
        log_.error("retention: %s", std::string(e.what()));
    }
}

}  // namespace trainscope::agent
