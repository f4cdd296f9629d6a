// log_bench — what one Metric::log() costs the trainer, against the ways a trainer could
// otherwise hand a record to another party, all in one binary and one run.
//
// Every variant carries the same record (metric id, step, value, and a wall-clock timestamp
// from the same coarse clock log() uses, where the variant stores one) and runs 1 thread and
// 4 threads (one shared sink; for log(), one shared Run with a Metric per thread). The
// summary's headline figure is the CPU time of the logging threads per record: what a call
// costs the trainer, unaffected by other load on a shared machine. For the blocking
// baselines (mutex, message queue) it leaves out time spent waiting, which flatters them, so
// the ratios are conservative. Wall time per record is shown beside it (with 4 threads: wall
// time / all threads' records, the inverse of throughput).
//
//   BM_log              trainscope: Metric::log() on a Run as RunOptions makes it by default
//                       (8 lanes of 2^16 slots, coarse clock), so each logging thread writes
//                       a lane of its own (no locked instruction). A drainer thread uses the
//                       agent's SegmentReader the way the collector does (poll every 100 us,
//                       drain every lane, release once per pass). Drops (a lane filled while
//                       the drainer had no CPU) are counted: "dropped" and the summary.
//   BM_log_big_lanes    the same with 2^21 slots per lane (64 MiB): fewer drops when the
//                       drainer is starved, but every slot write misses the cache.
//   BM_log_shared_lane  8 lanes' worth of slots in 1 lane: every thread claims by CAS on the
//                       shared lane 0 (what threads beyond lanes-1 get; the v1 design).
//   BM_log_precise      BM_log with Timestamps::precise (CLOCK_REALTIME), 1 thread.
//   BM_log_tight_drainer  BM_log, but the drainer spins right behind the producer and
//                       releases every 4096 records: the worst case for cache-line sharing.
//   BM_atomic_floor     one relaxed fetch_add on a shared counter: the floor for any design
//                       that claims a slot with an atomic read-modify-write on shared state.
//   BM_clock_read       the coarse clock as log() reads it (vDSO, called directly): not a
//                       baseline but a part of log(), to show how much of its cost is the
//                       timestamp. BM_clock_read_libc: the same clock through glibc's
//                       clock_gettime(), for comparison.
//   BM_mutex_vector     std::mutex + std::vector::push_back (recycled at 64 Ki records, no
//                       reallocation): the obvious in-process queue, minus any consumer.
//   BM_fprintf_json     one JSON line per record with fprintf to a buffered file in /tmp
//                       (%.17g: lossless, like the binary record): the "print it" approach.
//   BM_message_queue    boost::interprocess::message_queue::send of the 32-byte record, with
//                       a receiver thread draining it: the off-the-shelf shared-memory IPC a
//                       trainer could use instead of our ring.
#include <trainscope/detail/clock.hpp>
#include <trainscope/trainscope.hpp>

#include <boost/interprocess/ipc/message_queue.hpp>

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench_util.hpp"
#include "ingest/segment_reader.hpp"

namespace {

namespace bip = boost::interprocess;
using trainscope::LogStatus;
using trainscope::bench::result;

// Every lane is pre-faulted before any measurement, so page faults of a fresh tmpfs segment
// are not what is measured.

/// The clock log() uses by default, for the baselines' timestamps.
const trainscope::detail::WallClock g_clock =
    trainscope::detail::WallClock::make(trainscope::Timestamps::coarse);

/// The record the baselines carry: the same fields as a ring slot minus its publish word.
struct Record {
    std::uint32_t metric_id;
    std::int64_t step;
    double value;
    std::int64_t unix_ns;
};
static_assert(sizeof(Record) == 32);

// ---- trainscope: one Run per configuration, a drainer standing in for the collector ------

struct RigConfig {
    std::uint32_t lanes;
    std::uint32_t slots;  ///< per lane
    trainscope::Timestamps timestamps;
    const char* tag;
};
constexpr RigConfig kLanes{8, 1u << 16, trainscope::Timestamps::coarse, "lanes"};
constexpr RigConfig kBigLanes{8, 1u << 21, trainscope::Timestamps::coarse, "big"};
constexpr RigConfig kSharedLane{1, 1u << 19, trainscope::Timestamps::coarse, "shared"};
constexpr RigConfig kPrecise{8, 1u << 16, trainscope::Timestamps::precise, "precise"};

class LogRig {
public:
    static LogRig& get(const RigConfig& config) {
        static std::map<std::string, std::unique_ptr<LogRig>> rigs;
        auto& rig = rigs[config.tag];
        if (!rig) rig.reset(new LogRig(config));
        return *rig;
    }

    trainscope::Run& run() { return run_; }

    /// Starts the drainer. tight: spin and release every 4096 records; else collector-like.
    void start(bool tight) {
        stop_ = false;
        drainer_ = std::thread([this, tight] { drain_loop(tight); });
        if (!warmed_) warm();
    }
    void stop() {
        stop_ = true;
        if (drainer_.joinable()) drainer_.join();
    }

    std::uint64_t logged() const { return reader_ ? reader_->written() : 0; }

    ~LogRig() {
        stop();
        if (reader_) reader_->remove();
    }

private:
    explicit LogRig(const RigConfig& config)
        : config_(config), run_("log_bench", options(config)) {
        std::string why;
        bool not_ready = false;
        std::string name = trainscope::bench::find_segment(ns_);
        reader_ = trainscope::agent::SegmentReader::open(name, &why, &not_ready);
        if (!reader_) {
            std::fprintf(stderr, "log_bench: cannot open segment '%s': %s\n", name.c_str(),
                         why.c_str());
            std::exit(1);
        }
        cursors_ = reader_->read_positions();
    }

    trainscope::RunOptions options(const RigConfig& config) {
        trainscope::RunOptions o;
        o.capacity = config.slots;
        o.lanes = config.lanes;
        o.timestamps = config.timestamps;
        o.name_space = ns_ = trainscope::bench::private_namespace(std::string("log-") + config.tag);
        o.autostart = false;
        return o;
    }

    /// Touches every lane's pages through both mappings once (one thread per lane, alive at
    /// the same time so each gets its own), so page faults of a fresh tmpfs segment are not
    /// part of any measurement. The threads then end, and the benchmark's threads take their
    /// lanes over.
    void warm() {
        warmed_ = true;
        std::uint32_t writers = config_.lanes > 1 ? config_.lanes - 1 : 1;
        std::atomic<std::uint32_t> done{0};
        std::vector<std::thread> pool;
        std::vector<std::atomic<long>> tids(writers);
        for (std::uint32_t t = 0; t < writers; ++t)
            pool.emplace_back([&, t] {
                tids[t] = trainscope::detail::current_tid();
                trainscope::Metric warm = run_.metric("bench/warmup");
                for (std::uint64_t i = 0; i < config_.slots; ++i)
                    while (warm.log(static_cast<std::int64_t>(i), 0.0) != LogStatus::ok)
                        std::this_thread::yield();
                done.fetch_add(1);
                while (done.load() < writers) std::this_thread::yield();
            });
        for (auto& th : pool) th.join();
        // A lane is handed on once the kernel has forgotten its thread, a moment after join.
        for (auto& tid : tids)
            while (trainscope::detail::thread_alive(tid)) std::this_thread::yield();
    }

    void drain_loop(bool tight) {
        // Collector-like: every 100 us drain all that is published (bounded by the
        // collector's per-pass budget), then release each lane, as the collector does per
        // commit.
        const std::size_t batch = tight ? 4096 : (1u << 18);
        std::vector<trainscope::agent::Record> out;
        out.reserve(batch);
        std::uint64_t lost = 0;
        for (;;) {
            bool stopping = stop_.load(std::memory_order_acquire);
            out.clear();
            std::size_t n = reader_->drain(cursors_, batch, false, out, &lost);
            if (n)
                for (std::uint32_t k = 0; k < cursors_.size(); ++k) reader_->release(k, cursors_[k]);
            if (stopping && n == 0 && reader_->drained(cursors_)) return;
            if (n < batch) {
                if (tight)
                    trainscope::detail::cpu_relax();
                else
                    std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        }
    }

    RigConfig config_;
    std::string ns_;
    trainscope::Run run_;
    std::unique_ptr<trainscope::agent::SegmentReader> reader_;
    trainscope::agent::LaneCursors cursors_;
    std::thread drainer_;
    std::atomic<bool> stop_{false};
    bool warmed_ = false;
};

template <const RigConfig& C>
void start_drainer(const benchmark::State&) {
    LogRig::get(C).start(false);
}
void start_tight_drainer(const benchmark::State&) {
    LogRig::get(kLanes).start(true);
}
template <const RigConfig& C>
void stop_drainer(const benchmark::State&) {
    LogRig::get(C).stop();
}

template <const RigConfig& C>
void BM_log(benchmark::State& state) {
    trainscope::Metric m =
        LogRig::get(C).run().metric("bench/t" + std::to_string(state.thread_index()));
    std::int64_t step = 0;
    std::uint64_t dropped = 0;
    for (auto _ : state) {
        LogStatus s = m.log(step, static_cast<double>(step) * 0.5);
        dropped += s != LogStatus::ok;
        ++step;
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["dropped"] = static_cast<double>(dropped);  // counters sum over threads
    state.counters["records"] = static_cast<double>(state.iterations());
}

// ---- the floor: one relaxed RMW on a shared cache line -------------------------------------

alignas(64) std::atomic<std::uint64_t> g_counter{0};

void BM_atomic_floor(benchmark::State& state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(g_counter.fetch_add(1, std::memory_order_relaxed));
    state.SetItemsProcessed(state.iterations());
}

// ---- a component of log(): reading the producer's clock ------------------------------------

void BM_clock_read(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(g_clock.now());
    state.SetItemsProcessed(state.iterations());
}

void BM_clock_read_libc(benchmark::State& state) {
    for (auto _ : state) {
        timespec ts;
        ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        benchmark::DoNotOptimize(ts);
    }
    state.SetItemsProcessed(state.iterations());
}

// ---- std::mutex + std::vector --------------------------------------------------------------

struct MutexSink {
    std::mutex mutex;
    std::vector<Record> records;
    MutexSink() { records.reserve(1u << 16); }
};
MutexSink g_mutex_sink;

void BM_mutex_vector(benchmark::State& state) {
    const auto id = static_cast<std::uint32_t>(state.thread_index());
    std::int64_t step = 0;
    for (auto _ : state) {
        Record r{id, step, static_cast<double>(step) * 0.5, g_clock.now()};
        {
            std::lock_guard<std::mutex> lock(g_mutex_sink.mutex);
            if (g_mutex_sink.records.size() == g_mutex_sink.records.capacity())
                g_mutex_sink.records.clear();  // stands in for a consumer swapping it out
            g_mutex_sink.records.push_back(r);
        }
        ++step;
    }
    state.SetItemsProcessed(state.iterations());
}

// ---- fprintf of a JSON line ----------------------------------------------------------------

std::FILE* g_json = nullptr;
std::string g_json_path;

void open_json(const benchmark::State&) {
    g_json_path = "/tmp/tsbench-" + std::to_string(::getpid()) + ".jsonl";
    g_json = std::fopen(g_json_path.c_str(), "w");
    if (!g_json) {
        std::perror(g_json_path.c_str());
        std::exit(1);
    }
}
void close_json(const benchmark::State&) {
    std::fclose(g_json);
    std::remove(g_json_path.c_str());
}

void BM_fprintf_json(benchmark::State& state) {
    const std::string name = "bench/t" + std::to_string(state.thread_index());
    std::int64_t step = 0;
    for (auto _ : state) {
        std::fprintf(g_json, "{\"metric\":\"%s\",\"step\":%lld,\"value\":%.17g,\"t\":%lld}\n",
                     name.c_str(), static_cast<long long>(step), static_cast<double>(step) * 0.5,
                     static_cast<long long>(g_clock.now()));
        // Keep the file small (page cache, not disk): start over every 2^20 lines.
        if ((++step & 0xFFFFF) == 0) std::rewind(g_json);
    }
    state.SetItemsProcessed(state.iterations());
}

// ---- boost::interprocess::message_queue ----------------------------------------------------

constexpr std::uint32_t kStopId = 0xFFFFFFFFu;
std::unique_ptr<bip::message_queue> g_queue;
std::string g_queue_name;
std::thread g_receiver;

void open_queue(const benchmark::State&) {
    g_queue_name = "tsbench-mq-" + std::to_string(::getpid());
    bip::message_queue::remove(g_queue_name.c_str());
    g_queue = std::make_unique<bip::message_queue>(bip::create_only, g_queue_name.c_str(), 1u << 16,
                                                   sizeof(Record));
    g_receiver = std::thread([] {
        Record r{};
        bip::message_queue::size_type got = 0;
        unsigned prio = 0;
        for (;;) {
            g_queue->receive(&r, sizeof r, got, prio);
            if (r.metric_id == kStopId) return;
        }
    });
}
void close_queue(const benchmark::State&) {
    Record stop{kStopId, 0, 0, 0};
    g_queue->send(&stop, sizeof stop, 0);
    g_receiver.join();
    g_queue.reset();
    bip::message_queue::remove(g_queue_name.c_str());
}

void BM_message_queue(benchmark::State& state) {
    const auto id = static_cast<std::uint32_t>(state.thread_index());
    std::int64_t step = 0;
    for (auto _ : state) {
        Record r{id, step, static_cast<double>(step) * 0.5, g_clock.now()};
        g_queue->send(&r, sizeof r, 0);
        ++step;
    }
    state.SetItemsProcessed(state.iterations());
}

/// 1 thread and 4 threads, wall-clock time.
void shape(benchmark::internal::Benchmark* b) {
    b->Threads(1)->Threads(4)->UseRealTime();
}

void register_all() {
    benchmark::RegisterBenchmark("BM_log", BM_log<kLanes>)
        ->Setup(start_drainer<kLanes>)
        ->Teardown(stop_drainer<kLanes>)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_log_big_lanes", BM_log<kBigLanes>)
        ->Setup(start_drainer<kBigLanes>)
        ->Teardown(stop_drainer<kBigLanes>)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_log_shared_lane", BM_log<kSharedLane>)
        ->Setup(start_drainer<kSharedLane>)
        ->Teardown(stop_drainer<kSharedLane>)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_log_precise", BM_log<kPrecise>)
        ->Setup(start_drainer<kPrecise>)
        ->Teardown(stop_drainer<kPrecise>)
        ->Threads(1)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_log_tight_drainer", BM_log<kLanes>)
        ->Setup(start_tight_drainer)
        ->Teardown(stop_drainer<kLanes>)
        ->Threads(1)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_atomic_floor", BM_atomic_floor)->Apply(shape);
    benchmark::RegisterBenchmark("BM_clock_read", BM_clock_read)->Threads(1)->UseRealTime();
    benchmark::RegisterBenchmark("BM_clock_read_libc", BM_clock_read_libc)->Threads(1)->UseRealTime();
    benchmark::RegisterBenchmark("BM_mutex_vector", BM_mutex_vector)->Apply(shape);
    benchmark::RegisterBenchmark("BM_fprintf_json", BM_fprintf_json)
        ->Setup(open_json)
        ->Teardown(close_json)
        ->Apply(shape);
    benchmark::RegisterBenchmark("BM_message_queue", BM_message_queue)
        ->Setup(open_queue)
        ->Teardown(close_queue)
        ->Apply(shape);
}

void summary(const trainscope::bench::SummaryReporter& rep) {
    struct Row {
        const char* name;
        const char* fn;
    };
    const Row rows[] = {{"trainscope log()", "BM_log"},
                        {"log(), 2^21-slot lanes", "BM_log_big_lanes"},
                        {"log(), shared lane 0 (CAS)", "BM_log_shared_lane"},
                        {"log(), precise clock", "BM_log_precise"},
                        {"log(), tight drainer", "BM_log_tight_drainer"},
                        {"atomic fetch_add (floor)", "BM_atomic_floor"},
                        {"clock read (part of log)", "BM_clock_read"},
                        {"same clock via glibc", "BM_clock_read_libc"},
                        {"mutex + vector", "BM_mutex_vector"},
                        {"fprintf JSON line", "BM_fprintf_json"},
                        {"boost message_queue", "BM_message_queue"}};
    // CPU time of the logging threads is the cost a call puts on the trainer, and it does not
    // count time the thread was not running (this machine may be shared). For the blocking
    // baselines it leaves out time spent waiting, which flatters them: the ratios are
    // conservative. Wall time is shown beside it.
    double log1 = rep.cpu("BM_log", 1), log4 = rep.cpu("BM_log", 4);
    std::printf(
        "\nSummary: median ns per record. cpu = CPU time of the logging threads / records;\n"
        "wall = wall time / records (4 threads: all threads' records). %ld cores, load %s\n",
        ::sysconf(_SC_NPROCESSORS_ONLN), trainscope::bench::load_average().c_str());
    std::printf("  %-26s %9s %9s %9s | %9s %9s %9s\n", "variant", "1t cpu", "1t wall", "x log()",
                "4t cpu", "4t wall", "x log()");
    auto cell = [](double v) {
        static char buf[8][32];
        static int i = 0;
        char* b = buf[i++ % 8];
        if (v < 0)
            std::snprintf(b, 32, "%9s", "-");
        else
            std::snprintf(b, 32, "%9.2f", v);
        return b;
    };
    for (const Row& r : rows) {
        double c1 = rep.cpu(r.fn, 1), w1 = rep.real(r.fn, 1), c4 = rep.cpu(r.fn, 4),
               w4 = rep.real(r.fn, 4);
        if (c1 < 0 && c4 < 0) continue;
        std::printf("  %-26s %s %s %s | %s %s %s\n", r.name, cell(c1), cell(w1),
                    cell(c1 < 0 ? -1 : c1 / log1), cell(c4), cell(w4),
                    cell(c4 < 0 ? -1 : c4 / log4));
    }
    double atomic1 = rep.cpu("BM_atomic_floor", 1), mq1 = rep.cpu("BM_message_queue", 1);
    auto verdict = [](bool ok) { return ok ? "PASS" : "MISS"; };
    std::printf("Goals (1 thread, cpu):\n");
    if (log1 > 0)
        std::printf("  log() median <= 10 ns             %8.2f ns  %s\n", log1,
                    verdict(log1 <= 10));
    if (log1 > 0 && mq1 > 0)
        std::printf("  >= 15x faster than message_queue  %8.2fx     %s\n", mq1 / log1,
                    verdict(mq1 / log1 >= 15));
    if (log1 > 0 && atomic1 > 0)
        std::printf("  within 5x of the atomic floor     %8.2fx     %s\n", log1 / atomic1,
                    verdict(log1 / atomic1 <= 5));
    for (const char* fn : {"BM_log", "BM_log_big_lanes"})
        for (int t : {1, 4}) {
            double dropped = rep.counter(fn, "dropped", t), records = rep.counter(fn, "records", t);
            if (dropped < 0 || records <= 0) continue;
            std::printf("Dropped by %s (lane full), %d thread(s), median run: %.0f of %.0f (%.3f%%)\n",
                        fn, t, dropped, records, 100.0 * dropped / records);
            std::string key = std::string(fn + 3) + "_dropped_pct_" + std::to_string(t) + "t";
            result(key.c_str(), 100.0 * dropped / records);
        }
    std::printf("All BM_log runs together: %llu dropped of %llu records\n",
                static_cast<unsigned long long>(LogRig::get(kLanes).run().dropped()),
                static_cast<unsigned long long>(LogRig::get(kLanes).logged()));
    for (const Row& r : rows)
        for (int t : {1, 4}) {
            if (rep.cpu(r.fn, t) < 0) continue;
            std::string key = std::string(r.fn + 3) + "_cpu_ns_" + std::to_string(t) + "t";
            result(key.c_str(), rep.cpu(r.fn, t));
            key = std::string(r.fn + 3) + "_wall_ns_" + std::to_string(t) + "t";
            result(key.c_str(), rep.real(r.fn, t));
        }
}

}  // namespace

int main(int argc, char** argv) {
    trainscope::bench::no_autostart();
    register_all();
    return trainscope::bench::run_main(
        argc, argv,
        {"--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true",
         "--benchmark_min_time=0.2"},
        summary);
}
