// drain_bench — how fast the agent moves records out of a trainer's ring, on one core.
//
// Each iteration, with the clock paused, a producer thread (another core, as a trainer
// would be) fills its whole lane with N published records through the SDK (16 metrics
// interleaved; the segment has the default 8 lanes, the others stay empty, as they are when
// a trainer logs from one thread). Then the clock runs over the agent's side only:
//
//   BM_drain              SegmentReader::drain of all N records (every lane checked) into a
//                         reused vector, then release() per lane: the collector's read path,
//                         minus SQLite. Collector::pass keeps its vector across passes.
//   BM_drain_fresh_vector the same into a vector created for the pass (what Collector::pass
//                         did before it kept its vector as a member). What that costs depends
//                         on glibc's adaptive mmap threshold: page faults on every pass until
//                         a large enough block has been freed once, reallocation after that.
//   BM_memcpy_floor       memcpy of the same N x 32 lane bytes into a buffer: the floor for
//                         moving those bytes, with no per-record check at all.
//
// N is 2^16 (the SDK's default ring); BM_drain also runs 2^18, the collector's per-pass
// budget (max_records_per_pass), which it drains when it has fallen behind. Every variant
// sees the same cache state: the bytes were just written by the producer's core.
#include <trainscope/trainscope.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "ingest/segment_reader.hpp"

namespace {

using trainscope::LogStatus;
using trainscope::agent::Record;
using trainscope::bench::result;

constexpr int kMetrics = 16;

/// One Run with an N-slot ring, a reader on it, and a producer thread that refills the ring.
class DrainRig {
public:
    explicit DrainRig(std::uint32_t n)
        : n_(n),
          ns_(trainscope::bench::private_namespace("drain" + std::to_string(n))),
          run_("drain_bench", options(n, ns_)) {
        std::string why, name = trainscope::bench::find_segment(ns_);
        bool not_ready = false;
        reader_ = trainscope::agent::SegmentReader::open(name, &why, &not_ready);
        if (!reader_) {
            std::fprintf(stderr, "drain_bench: cannot open segment '%s': %s\n", name.c_str(),
                         why.c_str());
            std::exit(1);
        }
        cursors_ = reader_->read_positions();
        for (int m = 0; m < kMetrics; ++m)
            metrics_.push_back(run_.metric("bench/m" + std::to_string(m)));
        producer_ = std::thread([this] { produce(); });
    }
    ~DrainRig() {
        request(-1);
        producer_.join();
        reader_->remove();
    }

    /// Fills the ring with N fresh records (positions cursor .. cursor+N-1); false on drops.
    bool fill() { return request(1) == static_cast<long>(n_); }

    trainscope::agent::SegmentReader& reader() { return *reader_; }
    /// The producer thread's lane: the first thread to log to a Run gets lane 1.
    static constexpr std::uint32_t kLane = 1;
    const void* lane_bytes() const {
        // Identity is the first member of the Header, so its address is the segment's.
        auto* h = reinterpret_cast<const trainscope::layout::Header*>(&reader_->identity());
        return trainscope::layout::lane_slots(h, kLane, n_);
    }
    std::uint32_t n() const { return n_; }
    /// Drains what is there and releases every lane's slots.
    std::size_t drain_all(std::vector<Record>& out) {
        std::uint64_t lost = 0;
        std::size_t got = reader_->drain(cursors_, n_, false, out, &lost);
        for (std::uint32_t k = 0; k < cursors_.size(); ++k) reader_->release(k, cursors_[k]);
        return got;
    }
    /// For the memcpy floor: marks N records of the producer's lane as read.
    void skip_lane() {
        cursors_[kLane] += n_;
        reader_->release(kLane, cursors_[kLane]);
    }

private:
    static trainscope::RunOptions options(std::uint32_t n, const std::string& ns) {
        trainscope::RunOptions o;
        o.capacity = n;
        o.name_space = ns;
        o.autostart = false;
        return o;
    }

    /// Hands a command to the producer (1 fill, -1 quit) and waits for its answer.
    long request(long command) {
        answered_.store(false, std::memory_order_relaxed);
        command_.store(command, std::memory_order_release);
        while (!answered_.load(std::memory_order_acquire)) std::this_thread::yield();
        return answer_;
    }

    void produce() {
        std::int64_t step = 0;
        for (;;) {
            long c;
            while ((c = command_.load(std::memory_order_acquire)) == 0) std::this_thread::yield();
            command_.store(0, std::memory_order_relaxed);
            if (c < 0) {
                answered_.store(true, std::memory_order_release);
                return;
            }
            long ok = 0;
            for (std::uint32_t i = 0; i < n_; ++i, ++step)
                ok += metrics_[i % kMetrics].log(step, static_cast<double>(step) * 0.25) ==
                      LogStatus::ok;
            answer_ = ok;
            answered_.store(true, std::memory_order_release);
        }
    }

    std::uint32_t n_;
    std::string ns_;
    trainscope::Run run_;
    std::unique_ptr<trainscope::agent::SegmentReader> reader_;
    trainscope::agent::LaneCursors cursors_;
    std::vector<trainscope::Metric> metrics_;
    std::thread producer_;
    std::atomic<long> command_{0};
    std::atomic<bool> answered_{false};
    long answer_ = 0;
};

DrainRig& rig(std::uint32_t n) {
    static std::map<std::uint32_t, std::unique_ptr<DrainRig>> rigs;
    auto& r = rigs[n];
    if (!r) r = std::make_unique<DrainRig>(n);
    return *r;
}

void refill(benchmark::State& state, DrainRig& r) {
    state.PauseTiming();
    if (!r.fill()) state.SkipWithError("the producer dropped records: the ring was not empty");
    state.ResumeTiming();
}

void finish(benchmark::State& state, std::uint32_t n) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}

void BM_drain(benchmark::State& state) {
    DrainRig& r = rig(static_cast<std::uint32_t>(state.range(0)));
    std::vector<Record> out;
    out.reserve(r.n());
    for (auto _ : state) {
        refill(state, r);
        out.clear();
        std::size_t got = r.drain_all(out);
        if (got != r.n()) state.SkipWithError("drain returned fewer records than published");
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    finish(state, r.n());
}

void BM_drain_fresh_vector(benchmark::State& state) {
    DrainRig& r = rig(static_cast<std::uint32_t>(state.range(0)));
    for (auto _ : state) {
        refill(state, r);
        std::vector<Record> out;
        std::size_t got = r.drain_all(out);
        if (got != r.n()) state.SkipWithError("drain returned fewer records than published");
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    finish(state, r.n());
}

void BM_memcpy_floor(benchmark::State& state) {
    DrainRig& r = rig(static_cast<std::uint32_t>(state.range(0)));
    std::size_t bytes = std::size_t{r.n()} * sizeof(trainscope::layout::Slot);
    std::vector<char> out(bytes);
    for (auto _ : state) {
        refill(state, r);
        std::memcpy(out.data(), r.lane_bytes(), bytes);
        r.skip_lane();
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    finish(state, r.n());
}

BENCHMARK(BM_drain)->Arg(1 << 16)->Arg(1 << 18)->UseRealTime();
BENCHMARK(BM_drain_fresh_vector)->Arg(1 << 16)->UseRealTime();
BENCHMARK(BM_memcpy_floor)->Arg(1 << 16)->UseRealTime();

void summary(const trainscope::bench::SummaryReporter& rep) {
    auto mrps = [&](const char* fn) {
        double v = rep.counter(fn, "items_per_second");
        return v < 0 ? -1 : v / 1e6;
    };
    std::printf(
        "\nSummary: median M records/s on one core (ring filled by another core), load %s\n",
        trainscope::bench::load_average().c_str());
    const char* rows[][2] = {{"SegmentReader::drain, N = 2^16", "BM_drain/65536"},
                             {"SegmentReader::drain, N = 2^18", "BM_drain/262144"},
                             {"drain into a fresh vector, 2^16", "BM_drain_fresh_vector/65536"},
                             {"memcpy of the bytes (floor), 2^16", "BM_memcpy_floor/65536"}};
    for (auto& row : rows)
        if (mrps(row[1]) > 0) std::printf("  %-36s %10.1f\n", row[0], mrps(row[1]));
    double drain = mrps("BM_drain/65536"), floor = mrps("BM_memcpy_floor/65536");
    if (drain > 0) {
        std::string vs =
            floor > 0 ? " (" + std::to_string(drain / floor).substr(0, 4) + "x of the memcpy floor)"
                      : "";
        std::printf("Goal: drain >= 30 M records/s: %.1f M/s%s  %s\n", drain, vs.c_str(),
                    drain >= 30 ? "PASS" : "MISS");
        result("drain_mrps", drain);
    }
    const char* keys[][2] = {{"drain_2e18_mrps", "BM_drain/262144"},
                             {"drain_fresh_vector_mrps", "BM_drain_fresh_vector/65536"},
                             {"memcpy_mrps", "BM_memcpy_floor/65536"}};
    for (auto& k : keys)
        if (mrps(k[1]) > 0) result(k[0], mrps(k[1]));
}

}  // namespace

int main(int argc, char** argv) {
    trainscope::bench::no_autostart();
    return trainscope::bench::run_main(
        argc, argv,
        {"--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true",
         "--benchmark_min_time=0.05"},
        summary);
}
