// Proves: producer threads logging four metrics each into small (block-policy) lanes while
// the agent's reader drains them concurrently lose nothing and tear nothing: every
// (metric, step, value) combination arrives exactly once, at gap-free positions in its lane.
// With four threads and eight lanes each thread writes a lane of its own (never lane 0); with
// six threads and three lanes two threads own lanes 1 and 2 and the other four share lane 0.
#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using ConcurrencyTest = RingTest;

constexpr int kMetrics = 4;
constexpr std::int64_t kSteps = 25000;

/// Unique per (thread, metric, step) and exactly representable: a torn slot cannot match.
double value_of(int thread, int metric, std::int64_t step) {
    return static_cast<double>(step) * 0.5 + thread * 1000 + metric + 0.125;
}

/// Runs `threads` producers against one Run with `lanes` lanes and a concurrent consumer;
/// checks every record arrived once, intact, gap-free per lane. Returns the lanes each
/// thread's records went to.
std::vector<std::set<std::uint32_t>> run_producers(trainscope::Run& run,
                                                   agent::SegmentReader& reader, int threads) {
    std::atomic<int> producers{threads};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            std::vector<Metric> handles;
            for (int m = 0; m < kMetrics; ++m)
                handles.push_back(run.metric("t" + std::to_string(t) + "/m" + std::to_string(m)));
            for (std::int64_t s = 0; s < kSteps; ++s)
                for (int m = 0; m < kMetrics; ++m)
                    handles[static_cast<std::size_t>(m)].log(s, value_of(t, m, s));
            producers.fetch_sub(1, std::memory_order_release);
        });
    RingConsumer consumer(reader);
    std::vector<agent::Record> all = consumer.drain_until_done(producers);
    for (auto& th : pool) th.join();

    std::vector<std::set<std::uint32_t>> lanes_of(static_cast<std::size_t>(threads));
    EXPECT_EQ(all.size(), static_cast<std::size_t>(threads * kMetrics * kSteps));
    // metric id -> (thread, metric) through the names the SDK interned.
    EXPECT_EQ(reader.metric_count(), static_cast<std::uint32_t>(threads * kMetrics));
    std::map<std::uint32_t, std::pair<int, int>> owner;
    for (std::uint32_t id = 0; id < reader.metric_count(); ++id) {
        int t = -1, m = -1;
        EXPECT_EQ(std::sscanf(reader.metric_name(id).c_str(), "t%d/m%d", &t, &m), 2);
        owner[id] = {t, m};
    }
    std::vector<std::vector<bool>> seen(static_cast<std::size_t>(threads * kMetrics),
                                        std::vector<bool>(kSteps, false));
    std::vector<std::uint64_t> next_position(reader.lane_count(), 0);
    std::size_t bad = 0;
    for (const agent::Record& r : all) {
        auto it = owner.find(r.metric_id);
        bool ok = it != owner.end() && r.lane < reader.lane_count() &&
                  r.position == next_position[r.lane] && r.step >= 0 && r.step < kSteps;
        auto [t, m] = ok ? it->second : std::pair<int, int>{0, 0};
        ok = ok && r.value == value_of(t, m, r.step);
        auto slot = seen[static_cast<std::size_t>(t * kMetrics + m)].begin() + (ok ? r.step : 0);
        if (!ok || *slot) {
            if (++bad <= 5)
                ADD_FAILURE() << "torn, duplicate or misplaced record at lane " << r.lane
                              << " position " << r.position << ": metric " << r.metric_id
                              << " step " << r.step << " value " << r.value;
            continue;
        }
        *slot = true;
        ++next_position[r.lane];
        lanes_of[static_cast<std::size_t>(t)].insert(r.lane);
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(run.dropped(), 0u);
    return lanes_of;
}

TEST_F(ConcurrencyTest, FourThreadsOnLanesOfTheirOwnEveryRecordExactlyOnce) {
    trainscope::Run run("concurrency", options(1024, OverflowPolicy::block, 8));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    auto lanes_of = run_producers(run, *reader, 4);

    std::set<std::uint32_t> used;
    for (std::size_t t = 0; t < lanes_of.size(); ++t) {
        ASSERT_EQ(lanes_of[t].size(), 1u) << "thread " << t << " wrote to several lanes";
        std::uint32_t lane = *lanes_of[t].begin();
        EXPECT_NE(lane, 0u) << "thread " << t << " is on the shared lane";
        EXPECT_TRUE(used.insert(lane).second) << "threads share lane " << lane;
    }
    EXPECT_EQ(reader->write_pos(0), 0u) << "nothing went to the shared lane";
}

TEST_F(ConcurrencyTest, MoreThreadsThanLanesShareLaneZeroEveryRecordExactlyOnce) {
    constexpr int kThreads = 6;
    trainscope::Run run("concurrency", options(1024, OverflowPolicy::block, 3));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    auto lanes_of = run_producers(run, *reader, kThreads);

    std::map<std::uint32_t, int> threads_per_lane;
    for (std::size_t t = 0; t < lanes_of.size(); ++t) {
        ASSERT_EQ(lanes_of[t].size(), 1u) << "thread " << t << " wrote to several lanes";
        ++threads_per_lane[*lanes_of[t].begin()];
    }
    EXPECT_EQ(threads_per_lane[1], 1);
    EXPECT_EQ(threads_per_lane[2], 1);
    EXPECT_EQ(threads_per_lane[0], kThreads - 2) << "the overflow threads share lane 0";
    EXPECT_EQ(reader->write_pos(0), static_cast<std::uint64_t>((kThreads - 2) * kMetrics * kSteps));
}

}  // namespace
}  // namespace trainscope::test
