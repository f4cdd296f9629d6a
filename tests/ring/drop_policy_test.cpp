// Proves: under the default drop policy a full ring never blocks the trainer; it drops the
// records that do not fit, counts exactly those (Run::dropped() and the header's counter),
// and keeps every record that fit — alone, with four threads on lanes of their own racing a
// consumer, and with the four sharing lane 0.
#include <atomic>
#include <set>
#include <thread>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using DropPolicyTest = RingTest;

TEST_F(DropPolicyTest, FullRingDropsExactlyTheOverflowAndKeepsTheRest) {
    trainscope::Run run("drop", options(64));
    Metric metric = run.metric("loss");
    auto reader = open_reader();
    ASSERT_TRUE(reader);

    for (std::int64_t s = 0; s < 100; ++s)
        EXPECT_EQ(metric.log(s, static_cast<double>(s)), s < 64 ? LogStatus::ok : LogStatus::full)
            << "step " << s;
    EXPECT_EQ(run.dropped(), 36u);
    EXPECT_EQ(reader->dropped(), 36u);
    EXPECT_EQ(reader->written(), 64u);
    EXPECT_EQ(reader->write_pos(1), 64u) << "the thread's own lane";

    RingConsumer consumer(*reader);
    std::vector<agent::Record> got;
    consumer.drain(got);
    ASSERT_EQ(got.size(), 64u);
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(got[i].step, static_cast<std::int64_t>(i));

    // Room again once the consumer released the slots; the count stays where it was.
    for (std::int64_t s = 100; s < 110; ++s) EXPECT_EQ(metric.log(s, 1.0), LogStatus::ok);
    got.clear();
    consumer.drain(got);
    ASSERT_EQ(got.size(), 10u);
    EXPECT_EQ(got.front().step, 100);
    EXPECT_EQ(got.back().step, 109);
    EXPECT_EQ(run.dropped(), 36u);
    EXPECT_EQ(reader->dropped(), 36u);
}

class DropPolicyLanesTest : public RingTest, public ::testing::WithParamInterface<std::uint32_t> {};

TEST_P(DropPolicyLanesTest, RacingThreadsLoseOnlyWhatTheyWereToldWasDropped) {
    constexpr int kThreads = 4;
    constexpr std::int64_t kSteps = 20000;
    trainscope::Run run("drop", options(256, OverflowPolicy::drop, GetParam()));
    auto reader = open_reader();
    ASSERT_TRUE(reader);

    std::vector<Metric> metrics;
    for (int t = 0; t < kThreads; ++t) metrics.push_back(run.metric("thread" + std::to_string(t)));
    std::vector<std::set<std::int64_t>> accepted(kThreads);
    std::atomic<int> producers{kThreads};
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (std::int64_t s = 0; s < kSteps; ++s)
                if (metrics[t].log(s, static_cast<double>(s * 10) + static_cast<double>(t)) ==
                    LogStatus::ok)
                    accepted[t].insert(s);
            producers.fetch_sub(1, std::memory_order_release);
        });
    // Let the ring overflow once before draining, so drops are certain, not likely.
    while (reader->dropped() == 0 && producers.load() > 0) std::this_thread::yield();
    RingConsumer consumer(*reader);
    std::vector<agent::Record> all = consumer.drain_until_done(producers);
    for (auto& th : threads) th.join();

    std::vector<std::set<std::int64_t>> received(kThreads);
    for (const agent::Record& r : all) {
        ASSERT_LT(r.metric_id, static_cast<std::uint32_t>(kThreads));
        ASSERT_EQ(r.value, static_cast<double>(r.step * 10) + r.metric_id) << "torn record";
        ASSERT_TRUE(received[r.metric_id].insert(r.step).second) << "duplicate step " << r.step;
    }
    std::uint64_t kept = 0;
    for (std::size_t t = 0; t < kThreads; ++t) {
        EXPECT_EQ(received[t], accepted[t]) << "thread " << t;
        kept += accepted[t].size();
    }
    EXPECT_GT(run.dropped(), 0u);
    EXPECT_EQ(run.dropped(), kThreads * kSteps - kept);
    EXPECT_EQ(reader->dropped(), run.dropped());
    EXPECT_EQ(reader->written(), kept);
}

// lanes = 8: each thread on a lane of its own; lanes = 1: all four on the shared lane 0.
INSTANTIATE_TEST_SUITE_P(OwnAndSharedLanes, DropPolicyLanesTest, ::testing::Values(8u, 1u));

}  // namespace
}  // namespace trainscope::test
