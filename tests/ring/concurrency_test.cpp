// Proves: four producer threads logging four metrics each into a small (block-policy) ring
// while the agent's reader drains it concurrently lose nothing and tear nothing: every
// (metric, step, value) combination arrives exactly once, at gap-free ring positions.
#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using ConcurrencyTest = RingTest;

constexpr int kThreads = 4;
constexpr int kMetrics = 4;
constexpr std::int64_t kSteps = 25000;

/// Unique per (thread, metric, step) and exactly representable: a torn slot cannot match.
double value_of(int thread, int metric, std::int64_t step) {
    return static_cast<double>(step) * 0.5 + thread * 1000 + metric + 0.125;
}

TEST_F(ConcurrencyTest, FourThreadsConcurrentConsumerEveryRecordExactlyOnce) {
    trainscope::Run run("concurrency", options(1024, OverflowPolicy::block));
    auto reader = open_reader();
    ASSERT_TRUE(reader);

    std::atomic<int> producers{kThreads};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            std::vector<Metric> handles;
            for (int m = 0; m < kMetrics; ++m)
                handles.push_back(run.metric("t" + std::to_string(t) + "/m" + std::to_string(m)));
            for (std::int64_t s = 0; s < kSteps; ++s)
                for (int m = 0; m < kMetrics; ++m)
                    handles[static_cast<std::size_t>(m)].log(s, value_of(t, m, s));
            producers.fetch_sub(1, std::memory_order_release);
        });
    RingConsumer consumer(*reader);
    std::vector<agent::Record> all = consumer.drain_until_done(producers);
    for (auto& th : threads) th.join();

    ASSERT_EQ(all.size(), static_cast<std::size_t>(kThreads * kMetrics * kSteps));
    // metric id -> (thread, metric) through the names the SDK interned.
    ASSERT_EQ(reader->metric_count(), static_cast<std::uint32_t>(kThreads * kMetrics));
    std::map<std::uint32_t, std::pair<int, int>> owner;
    for (std::uint32_t id = 0; id < reader->metric_count(); ++id) {
        int t = -1, m = -1;
        ASSERT_EQ(std::sscanf(reader->metric_name(id).c_str(), "t%d/m%d", &t, &m), 2);
        owner[id] = {t, m};
    }
    std::vector<std::vector<bool>> seen(kThreads * kMetrics, std::vector<bool>(kSteps, false));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const agent::Record& r = all[i];
        auto [t, m] = owner.at(r.metric_id);
        bool ok =
            r.position == i && r.step >= 0 && r.step < kSteps && r.value == value_of(t, m, r.step);
        auto slot = seen[static_cast<std::size_t>(t * kMetrics + m)].begin() + (ok ? r.step : 0);
        if (!ok || *slot) {
            if (++bad <= 5)
                ADD_FAILURE() << "torn, duplicate or misplaced record at position " << r.position
                              << ": metric " << r.metric_id << " step " << r.step << " value "
                              << r.value;
            continue;
        }
        *slot = true;
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(run.dropped(), 0u);
}

}  // namespace
}  // namespace trainscope::test
