// Proves: a 64-slot lane reused for more than ten laps hands every record to the agent's
// reader once, in order and intact (position, step, value), whether producer and consumer
// take turns or run at the same time — on a thread's own lane and on the shared lane 0.
#include <random>
#include <thread>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using WrapAroundTest = RingTest;
constexpr std::uint32_t kCapacity = 64;

double value_of(std::int64_t step) {
    return static_cast<double>(step) * 0.25 - 7.0;
}

/// Checks that `records` continue the sequence at *expected; advances it.
void expect_in_order(const std::vector<agent::Record>& records, std::int64_t* expected) {
    for (const agent::Record& r : records) {
        ASSERT_EQ(r.position, static_cast<std::uint64_t>(*expected));
        ASSERT_EQ(r.step, *expected);
        ASSERT_EQ(r.value, value_of(*expected));
        ++*expected;
    }
}

TEST_F(WrapAroundTest, TakingTurnsOverTwentyLaps) {
    constexpr std::int64_t kTotal = kCapacity * 20;
    trainscope::Run run("wrap", options(kCapacity));
    Metric metric = run.metric("loss");
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    ASSERT_EQ(reader->identity().slot_count, kCapacity);
    RingConsumer consumer(*reader);

    std::mt19937 gen(7);
    std::int64_t next = 0, expected = 0;
    std::vector<agent::Record> got;
    while (next < kTotal) {
        // Bursts of 1..64 records: the ring fills completely at times, and the wrap point
        // falls at every offset within a burst.
        std::int64_t burst = 1 + static_cast<std::int64_t>(gen() % kCapacity);
        for (std::int64_t i = 0; i < burst && next < kTotal; ++i, ++next)
            ASSERT_EQ(metric.log(next, value_of(next)), LogStatus::ok) << "step " << next;
        got.clear();
        consumer.drain(got);
        ASSERT_NO_FATAL_FAILURE(expect_in_order(got, &expected));
    }
    EXPECT_EQ(expected, kTotal);
    EXPECT_EQ(reader->written(), static_cast<std::uint64_t>(kTotal));
    EXPECT_EQ(reader->write_pos(1), static_cast<std::uint64_t>(kTotal)) << "the thread's own lane";
    EXPECT_EQ(reader->read_pos(1), static_cast<std::uint64_t>(kTotal));
    EXPECT_EQ(run.dropped(), 0u);
    EXPECT_EQ(reader->dropped(), 0u);
}

class WrapAroundLanesTest : public RingTest, public ::testing::WithParamInterface<std::uint32_t> {};

// lanes = 8: the producer owns lane 1; lanes = 1: it shares lane 0 (the CAS protocol).
TEST_P(WrapAroundLanesTest, ConcurrentConsumerOverTwoHundredLaps) {
    constexpr std::int64_t kTotal = kCapacity * 200;
    trainscope::Run run("wrap", options(kCapacity, OverflowPolicy::block, GetParam()));
    Metric metric = run.metric("loss");
    auto reader = open_reader();
    ASSERT_TRUE(reader);

    std::atomic<int> producers{1};
    std::thread producer([&] {
        for (std::int64_t s = 0; s < kTotal; ++s) metric.log(s, value_of(s));
        producers.store(0, std::memory_order_release);
    });
    RingConsumer consumer(*reader);
    std::vector<agent::Record> all = consumer.drain_until_done(producers);
    producer.join();

    ASSERT_EQ(all.size(), static_cast<std::size_t>(kTotal));
    EXPECT_EQ(only_lane(all), GetParam() == 1 ? 0 : 1);
    std::int64_t expected = 0;
    expect_in_order(all, &expected);
    EXPECT_EQ(run.dropped(), 0u);
}

INSTANTIATE_TEST_SUITE_P(OwnAndSharedLane, WrapAroundLanesTest, ::testing::Values(8u, 1u));

}  // namespace
}  // namespace trainscope::test
