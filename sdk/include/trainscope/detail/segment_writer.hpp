// The producer's side of one segment: creating it, and the slow paths (metric names, config,
// model info, events, finish). The hot path is detail::push in ring_writer.hpp; the lanes it
// writes are set up here and owned by a LaneSet.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <trainscope/detail/autostart.hpp>
#include <trainscope/detail/clock.hpp>
#include <trainscope/detail/lane_set.hpp>
#include <trainscope/detail/process.hpp>
#include <trainscope/detail/ring_writer.hpp>
#include <trainscope/detail/session_id.hpp>
#include <trainscope/layout.hpp>
#include <trainscope/options.hpp>

namespace trainscope::detail {

/// Copies s into a fixed buffer of size n, always NUL-terminated. A cut falls on a UTF-8
/// character boundary: the agent and every page downstream see valid text.
inline void copy_bounded(char* dst, std::size_t n, std::string_view s) {
    std::size_t len = std::min(s.size(), n - 1);
    if (len < s.size())  // s[len] is the first byte left out: never leave half a character
        while (len > 0 && (static_cast<unsigned char>(s[len]) & 0xC0) == 0x80) --len;
    std::memcpy(dst, s.data(), len);
    dst[len] = '\0';
}

/// Slots per lane: a power of two within [kMinSlots, kMaxSlots].
inline std::uint32_t round_up_pow2(std::uint32_t n) {
    n = std::clamp(n, layout::kMinSlots, layout::kMaxSlots);
    std::uint32_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

class SegmentWriter {
public:
    /// Creates the segment; on failure returns a writer that logs nothing and says why once.
    static std::unique_ptr<SegmentWriter> open(std::string run_name, const RunOptions& options) {
        auto w = std::unique_ptr<SegmentWriter>(new SegmentWriter());
        w->create(std::move(run_name), options);
        return w;
    }

    ~SegmentWriter() {
        finish();
        // The segment stays in /dev/shm: the agent removes it once everything is stored.
    }

    bool active() const noexcept { return header_ != nullptr; }
    const RingRef& ring() const noexcept { return ring_; }
    const std::string& session_id() const noexcept { return session_id_; }
    std::uint64_t dropped() const noexcept {
        return active() ? header_->dropped.load(std::memory_order_relaxed) : 0;
    }

    /// The id of metric `name`, interned on first use. A refused name is reported on stderr,
    /// or, when `why` is given, described there instead (for callers that raise an error).
    bool intern(std::string_view name, std::uint32_t* id, std::string* why = nullptr) noexcept {
        if (!active()) return false;
        std::lock_guard<std::mutex> lock(mutex_);
        try {
            auto it = ids_.find(std::string(name));
            if (it != ids_.end()) {
                *id = it->second;
                return true;
            }
            layout::Header& h = *header_;
            std::uint32_t next = h.metric_count.load(std::memory_order_relaxed);
            auto refuse = [&](const std::string& reason) {
                if (why) *why = reason;
                else warn(reason + "; not logged");
                return false;
            };
            if (name.empty() || name.size() >= layout::kMetricNameSize)
                return refuse("metric name '" + std::string(name) + "' is " + std::to_string(name.size()) +
                              " bytes; it must be 1.." + std::to_string(layout::kMetricNameSize - 1) +
                              " bytes of UTF-8");
            if (name.find('\0') != std::string_view::npos)
                return refuse("metric name '" + std::string(name.data()) + "...' contains a NUL character");
            if (next >= layout::kMaxMetrics)
                return refuse("more than " + std::to_string(layout::kMaxMetrics) +
                              " metric names in one run; '" + std::string(name) + "' is one too many");
            copy_bounded(h.metric_names[next], layout::kMetricNameSize, name);
            h.metric_count.store(next + 1, std::memory_order_release);
            ids_.emplace(std::string(name), next);
            *id = next;
            return true;
        } catch (...) {  // allocation failure: never escape into the trainer
            return false;
        }
    }

    bool set_config(std::string_view json) noexcept {
        return active() && write_blob(header_->config, json, "config");
    }
    bool set_model_info(std::string_view json) noexcept {
        return active() && write_blob(header_->model_info, json, "model info");
    }

    bool event(std::string_view kind, std::string_view text) noexcept {
        if (!active()) return false;
        std::lock_guard<std::mutex> lock(mutex_);
        layout::Header& h = *header_;
        std::uint64_t pos = h.event_write.load(std::memory_order_relaxed);
        if (pos - h.event_read.load(std::memory_order_acquire) >= layout::kEventSlots) {
            h.events_dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        layout::EventSlot& e = h.events[pos % layout::kEventSlots];
        e.unix_ns = now_unix_ns();
        copy_bounded(e.kind, sizeof e.kind, kind);
        copy_bounded(e.text, sizeof e.text, text);
        e.publish.store(static_cast<std::uint32_t>(pos + 1), std::memory_order_release);
        h.event_write.store(pos + 1, std::memory_order_release);
        return true;
    }

    /// Only the process that created the segment finishes it: a forked child (a data-loader
    /// worker, say) that exits must not end its parent's run. The first end wins: the
    /// destructor's finish() does not turn a failed run into a finished one.
    void finish(RunEnd end = RunEnd::finished) noexcept {
        if (!active() || static_cast<long>(::getpid()) != creator_pid_) return;
        std::uint32_t running = layout::kRunning;
        header_->finished.compare_exchange_strong(
            running, end == RunEnd::failed ? layout::kFailed : layout::kFinished, std::memory_order_release,
            std::memory_order_relaxed);
    }

private:
    SegmentWriter() = default;

    void create(std::string run_name, const RunOptions& options) {
        namespace bip = boost::interprocess;
        std::string ns = options.name_space.empty() ? default_namespace() : options.name_space;
        session_id_ = options.run_id;
        if (session_id_.empty())
            if (const char* env = std::getenv("TRAINSCOPE_RUN_ID"); env && *env) session_id_ = env;
        if (session_id_.empty()) session_id_ = torchelastic_session_id();
        if (!session_id_.empty() && !valid_session_id(session_id_)) {
            warn("run id '" + session_id_ + "' is not 1..31 characters of [A-Za-z0-9._-]; using a new one");
            session_id_.clear();
        }
        std::int64_t unix_ns = now_unix_ns();
        if (session_id_.empty()) session_id_ = make_session_id(unix_ns / 1000000);
        int rank = options.rank < 0 ? rank_from_environment() : options.rank;
        std::uint32_t slot_count = round_up_pow2(options.capacity);
        std::uint32_t lane_count = std::clamp<std::uint32_t>(options.lanes, 1, layout::kMaxLanes);
        // Virtual size: tmpfs allocates a lane's pages only once a thread writes them.
        std::size_t size = layout::segment_size(lane_count, slot_count);
        WallClock clock = WallClock::make(options.timestamps);
        long pid = static_cast<long>(::getpid());
        creator_pid_ = pid;
        watch_fork();

        static std::atomic<unsigned> counter{0};
        std::string error;
        for (int attempt = 0; attempt < 8 && !region_; ++attempt) {
            name_ = segment_prefix(ns) + std::to_string(pid) + "." + std::to_string(counter++);
            try {
                bip::shared_memory_object shm(bip::create_only, name_.c_str(), bip::read_write,
                                              bip::permissions(0600));
                shm.truncate(static_cast<bip::offset_t>(size));
                region_ = std::make_unique<bip::mapped_region>(shm, bip::read_write);
            } catch (const std::exception& e) {
                error = e.what();  // a stale segment of a dead process with our pid: next name
            }
        }
        if (!region_) {
            warn("cannot create shared memory segment '" + name_ + "' (" + error +
                 "); this run's metrics are not recorded");
            return;
        }

        // Fresh tmpfs pages are zero; construct the header's atomics in place over them.
        auto* h = new (region_->get_address()) layout::Header;
        layout::Identity& id = h->id;
        id.magic = layout::kMagic;
        id.header_size = static_cast<std::uint32_t>(layout::kHeaderSize);
        id.slot_size = sizeof(layout::Slot);
        id.slot_count = slot_count;
        id.producer_pid = pid;
        id.producer_start = process_start_time(pid);
        id.anchor_unix_ns = unix_ns;
        id.lane_count = lane_count;
        id.clock_kind = clock.kind();
        id.clock_resolution_ns = clock.resolution_ns();
        id.rank = rank;
        id.overflow_policy = options.overflow == OverflowPolicy::block ? 1 : 0;
        copy_bounded(id.session_id, sizeof id.session_id, session_id_);
        copy_bounded(id.run_name, sizeof id.run_name, run_name);
        id.version.store(layout::kLayoutVersion, std::memory_order_release);  // published last

        try {
            lanes_ = std::make_unique<LaneSet>(h, lane_count, slot_count,
                                               options.overflow == OverflowPolicy::block, clock,
                                               options.agent_timeout);
        } catch (...) {  // bad_alloc: this run logs nothing, like any other setup failure
            warn("out of memory setting up segment '" + name_ + "'; this run's metrics are not recorded");
            return;
        }
        header_ = h;
        ring_ = RingRef{lanes_.get(), lanes_->generation()};

        if (options.autostart) ensure_agent(ns);
    }

    template <std::size_t N>
    bool write_blob(layout::Blob<N>& blob, std::string_view text, const char* what) noexcept {
        if (text.size() > N) {
            warn(std::string(what) + " is " + std::to_string(text.size()) + " bytes, more than " +
                 std::to_string(N) + "; not recorded");
            return false;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        // Seqlock: odd generation while writing; the reader retries if it changed meanwhile.
        std::uint32_t g = blob.generation.load(std::memory_order_relaxed);
        blob.generation.store(g + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        std::memcpy(blob.bytes, text.data(), text.size());
        blob.length = static_cast<std::uint32_t>(text.size());
        blob.generation.store(g + 2, std::memory_order_release);
        return true;
    }

    void warn(const std::string& message) noexcept {
        std::fprintf(stderr, "trainscope: %s\n", message.c_str());
    }

    std::unique_ptr<boost::interprocess::mapped_region> region_;
    layout::Header* header_ = nullptr;
    std::unique_ptr<LaneSet> lanes_;  ///< heap: its address is part of the lane cache's key
    RingRef ring_;
    long creator_pid_ = 0;
    std::string name_;
    std::string session_id_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::uint32_t> ids_;
};

}  // namespace trainscope::detail
