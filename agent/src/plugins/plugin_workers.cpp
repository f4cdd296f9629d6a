// Feeding plugins: each on a thread of its own, with a bounded queue (a slow plugin skips
// batches and never holds up the collector), a catch-up on stored points at start, a tick,
// and the failure policy (a plugin that throws is disabled, the agent goes on).
#include <Poco/Logger.h>

#include <trainscope/detail/clock.hpp>

#include <algorithm>

#include "plugins/loaded_plugin.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

using Clock = std::chrono::steady_clock;

void PluginHost::disable(Loaded& p, const std::string& why) {
    p.enabled = false;
    std::lock_guard<std::mutex> lock(p.mutex);
    p.status.state = "disabled";
    p.status.reason = why;
    p.queue.clear();
    p.queued_points = 0;
    log_.error("plugin %s disabled: %s", p.status.name, why);
}

/// Feeds the plugin the stored points of the runs in catch_up_, a chunk of seq at a time
/// (bounded memory), and "run_ended" for the runs that ended.
void PluginHost::catch_up(Loaded& p) {
    if (p.loaded_after_start) return;
    if (options_.source) return catch_up_from_source(p);
    if (catch_up_.empty()) return;
    constexpr std::int64_t kChunk = 50'000;
    Clock::time_point began = Clock::now();
    std::int64_t points = 0;
    Queries q(options_.db_path);
    p.services->catching_up = true;
    for (const CatchUp& run : catch_up_) {
        for (std::int64_t since = 0; since < run.last_seq && !stopping_; since += kChunk) {
            auto batch = make_plugin_batch(q.points_since(run.session_id, since, std::min(since + kChunk, run.last_seq)));
            points += static_cast<std::int64_t>(batch->total);
            if (batch->total) p.instance->on_points(batch->series);
        }
        if (run.ended) p.instance->on_run_event("run_ended", run.session_id);
    }
    p.services->catching_up = false;
    log_.information("plugin %s caught up on %s stored runs (%s points) in %s ms", p.status.name,
                     std::to_string(catch_up_.size()), std::to_string(points),
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count()));
}

void PluginHost::catch_up_from_source(Loaded& p) {
    PluginSource& source = *options_.source;
    if (source.catch_up_runs() == 0) return;
    Clock::time_point began = Clock::now();
    p.services->catching_up = true;
    std::int64_t points = source.catch_up(
        [&](const std::vector<SeriesUpdate>& updates) {
            auto batch = make_plugin_batch(updates);
            if (batch->total) p.instance->on_points(batch->series);
        },
        [&](const std::string& session) { p.instance->on_run_event("run_ended", session); }, stopping_);
    p.services->catching_up = false;
    log_.information("plugin %s caught up on %s stored runs (%s points) in %s ms", p.status.name,
                     std::to_string(source.catch_up_runs()), std::to_string(points),
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count()));
}

void PluginHost::worker(Loaded& p) {
    try {
        catch_up(p);
    } catch (const std::exception& e) {
        p.services->catching_up = false;
        disable(p, std::string("catching up on stored points threw: ") + e.what());
        return;
    } catch (...) {
        p.services->catching_up = false;
        disable(p, "catching up on stored points threw a non-standard exception");
        return;
    }
    Clock::time_point next_tick = Clock::now() + options_.tick;
    while (!stopping_ && p.enabled) {
        PluginWork work;
        bool tick = false;
        {
            std::unique_lock<std::mutex> lock(p.mutex);
            p.wake.wait_until(lock, next_tick, [&] { return stopping_ || !p.queue.empty(); });
            if (stopping_) return;
            if (!p.queue.empty()) {
                work = std::move(p.queue.front());
                p.queue.pop_front();
                if (work.batch) p.queued_points -= work.batch->total;
            } else {
                tick = true;
            }
        }
        const char* what = tick ? "on_tick" : work.batch ? "on_points" : "on_run_event";
        Clock::time_point began = Clock::now();
        try {
            if (tick) p.instance->on_tick(static_cast<double>(detail::now_unix_ns()) / 1e6);
            else if (work.batch) p.instance->on_points(work.batch->series);
            else p.instance->on_run_event(work.kind, work.session);
        } catch (const std::exception& e) {
            disable(p, std::string(what) + " threw: " + e.what());
            return;
        } catch (...) {
            disable(p, std::string(what) + " threw a non-standard exception");
            return;
        }
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
        if (took > options_.slow_call)
            log_.warning("plugin %s is slow: %s took %s ms", p.status.name, std::string(what),
                         std::to_string(took.count()));
        if (work.batch) {
            std::lock_guard<std::mutex> lock(p.mutex);
            ++p.status.batches;
        }
        if (tick || Clock::now() >= next_tick) next_tick = Clock::now() + options_.tick;
    }
}

void PluginHost::on_points(const std::vector<SeriesUpdate>& updates) {
    if (plugins_.empty() || updates.empty()) return;
    std::shared_ptr<const PluginBatch> shared = make_plugin_batch(updates);
    for (auto& p : plugins_) {
        if (!p->enabled) continue;
        std::lock_guard<std::mutex> lock(p->mutex);
        if (p->queued_points + shared->total > options_.max_queued_points) {
            // A slow plugin skips batches; it never holds up the collector.
            ++p->status.skipped_batches;
            ++p->skipped_since_log;
            if (Clock::now() - p->last_skip_log > std::chrono::seconds(10)) {
                log_.warning("plugin %s is behind: skipped %s batches", p->status.name,
                             std::to_string(p->skipped_since_log));
                p->skipped_since_log = 0;
                p->last_skip_log = Clock::now();
            }
            continue;
        }
        p->queued_points += shared->total;
        p->queue.push_back(PluginWork{shared, "", ""});
        p->wake.notify_one();
    }
}

void PluginHost::on_run_event(const std::string& kind, const std::string& session_id) {
    if (kind == "run_deleted") {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        stats_.erase(session_id);
    }
    for (auto& p : plugins_) {
        if (!p->enabled) continue;
        std::lock_guard<std::mutex> lock(p->mutex);
        p->queue.push_back(PluginWork{nullptr, kind, session_id});
        p->wake.notify_one();
    }
}

}  // namespace trainscope::agent
