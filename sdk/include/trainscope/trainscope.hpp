// Trainscope SDK: log training metrics into shared memory for the trainscope-agent.
//
//   trainscope::Run run("my-run");
//   trainscope::Metric loss = run.metric("train/loss");
//   for (...) loss.log(step, value);     // ~10 ns, no lock, no system call, no allocation
//
// Header-only; needs the standard library and Boost.Interprocess headers. Define
// TRAINSCOPE_DISABLE before including it to compile every call to nothing.
//
// Thread safety: any number of threads may log through one Run and its Metrics; each thread
// writes a lane of its own (the first RunOptions::lanes - 1 threads; later ones share lane 0),
// found through a thread-local cache, so a Metric may be copied to any thread. set_config,
// set_model_info, event and metric() take a private lock (slow path). After construction no
// member throws; failures are reported once on stderr and logging becomes a no-op.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <trainscope/detail/ring_writer.hpp>
#include <trainscope/options.hpp>

#ifndef TRAINSCOPE_DISABLE
#include <trainscope/detail/segment_writer.hpp>
#endif

namespace trainscope {

#ifndef TRAINSCOPE_DISABLE

/// An interned metric of one Run: the hot path. Cheap to copy; valid while its Run lives.
class Metric {
public:
    Metric() = default;

    /// Append (step, value). Never blocks under the drop policy, never throws.
    LogStatus log(std::int64_t step, double value) const noexcept {
        if (!ring_.lanes) return LogStatus::disabled;
        return detail::push(ring_, id_, step, value);
    }
    /// Append (step, value) stamped with `wall_time` instead of the clock: for points whose
    /// time is known already (replaying an older log), as TensorBoard's `walltime` argument.
    LogStatus log_at(std::int64_t step, double value,
                     std::chrono::system_clock::time_point wall_time) const noexcept {
        if (!ring_.lanes) return LogStatus::disabled;
        auto ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(wall_time.time_since_epoch());
        return detail::push_at(ring_, id_, step, value, static_cast<std::int64_t>(ns.count()));
    }
    bool valid() const noexcept { return ring_.lanes != nullptr; }

private:
    friend class Run;
    Metric(detail::RingRef ring, std::uint32_t id) : ring_(ring), id_(id) {}
    detail::RingRef ring_;
    std::uint32_t id_ = 0;
};

/// One training run as seen by this process: a shared-memory segment the agent drains.
class Run {
public:
    explicit Run(std::string name, RunOptions options = {})
        : writer_(detail::SegmentWriter::open(std::move(name), options)) {}
    Run(Run&&) noexcept = default;
    Run& operator=(Run&&) noexcept = default;
    ~Run() { finish(); }

    /// The handle for `name`, interned on first use (slow path; keep the handle).
    Metric metric(std::string_view name) noexcept {
        std::uint32_t id = 0;
        if (!writer_ || !writer_->intern(name, &id)) return Metric{};
        return Metric(writer_->ring(), id);
    }
    /// As metric(name), but a refused name (too long, empty, one too many) is described in
    /// `why` instead of on stderr. The Metric is invalid then, or when the Run is inactive.
    Metric metric(std::string_view name, std::string* why) noexcept {
        std::uint32_t id = 0;
        if (!writer_ || !writer_->intern(name, &id, why)) return Metric{};
        return Metric(writer_->ring(), id);
    }
    /// Log by name: a lookup under a lock, then the hot path. Prefer metric() in loops.
    LogStatus log(std::string_view name, std::int64_t step, double value) noexcept {
        std::uint32_t id = 0;
        if (!writer_ || !writer_->intern(name, &id)) return LogStatus::disabled;
        return detail::push(writer_->ring(), id, step, value);
    }

    /// The run's hyper-parameters as a JSON object. Replaces any earlier config.
    bool set_config(std::string_view json) noexcept { return writer_ && writer_->set_config(json); }
    /// The model's config and layer tree as JSON (see docs/model-info.md).
    bool set_model_info(std::string_view json) noexcept {
        return writer_ && writer_->set_model_info(json);
    }
    /// A free-form event shown on the run's timeline ("checkpoint", "saved to ...").
    bool event(std::string_view kind, std::string_view text) noexcept {
        return writer_ && writer_->event(kind, text);
    }
    /// Mark the run finished (or failed). The first call wins. Log everything first: the agent
    /// closes a finished run's segment as soon as it has drained it, so a point logged after
    /// finish() may never be stored.
    void finish(RunEnd end = RunEnd::finished) noexcept {
        if (writer_) writer_->finish(end);
    }

    /// The session id shared by every rank of this run.
    std::string session_id() const { return writer_ ? writer_->session_id() : std::string(); }
    /// Records dropped so far because the ring was full.
    std::uint64_t dropped() const noexcept { return writer_ ? writer_->dropped() : 0; }
    /// False when the run could not get shared memory and logs nothing.
    bool active() const noexcept { return writer_ && writer_->active(); }

private:
    std::unique_ptr<detail::SegmentWriter> writer_;
};

#else  // TRAINSCOPE_DISABLE: the same API, compiled to nothing.

class Metric {
public:
    LogStatus log(std::int64_t, double) const noexcept { return LogStatus::disabled; }
    LogStatus log_at(std::int64_t, double, std::chrono::system_clock::time_point) const noexcept {
        return LogStatus::disabled;
    }
    bool valid() const noexcept { return false; }
};
class Run {
public:
    explicit Run(std::string, RunOptions = {}) {}
    Metric metric(std::string_view) noexcept { return {}; }
    Metric metric(std::string_view, std::string*) noexcept { return {}; }
    LogStatus log(std::string_view, std::int64_t, double) noexcept { return LogStatus::disabled; }
    bool set_config(std::string_view) noexcept { return false; }
    bool set_model_info(std::string_view) noexcept { return false; }
    bool event(std::string_view, std::string_view) noexcept { return false; }
    void finish(RunEnd = RunEnd::finished) noexcept {}
    std::string session_id() const { return {}; }
    std::uint64_t dropped() const noexcept { return 0; }
    bool active() const noexcept { return false; }
};

#endif

}  // namespace trainscope
