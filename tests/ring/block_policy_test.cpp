// Proves: under the block policy a full ring makes log() wait instead of dropping: the
// producer stalls at exactly one ring's worth until the consumer releases slots, then
// completes with every record delivered and nothing dropped — on its own lane and on lane 0.
#include <atomic>
#include <thread>

#include "ring/ring_fixture.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

class BlockPolicyTest : public RingTest, public ::testing::WithParamInterface<std::uint32_t> {};

TEST_P(BlockPolicyTest, ProducerWaitsForTheConsumerThenCompletes) {
    constexpr std::uint32_t kCapacity = 64;
    constexpr std::int64_t kTotal = kCapacity * 5;
    trainscope::Run run("block", options(kCapacity, OverflowPolicy::block, GetParam()));
    Metric metric = run.metric("loss");
    auto reader = open_reader();
    ASSERT_TRUE(reader);

    std::atomic<int> producers{1};
    std::atomic<int> not_ok{0};
    std::thread producer([&] {
        for (std::int64_t s = 0; s < kTotal; ++s)
            if (metric.log(s, static_cast<double>(s) / 3.0) != LogStatus::ok) ++not_ok;
        producers.store(0, std::memory_order_release);
    });

    // Nobody drains yet: the producer fills the ring and must then wait, not finish.
    bool filled = wait_until([&] { return reader->written() == kCapacity; });
    std::this_thread::sleep_for(50ms);  // give a wrongly non-blocking producer time to run on
    bool still_blocked = producers.load() == 1 && reader->written() == kCapacity;
    RingConsumer consumer(*reader);  // release slots (also if the checks above failed)
    std::vector<agent::Record> all = consumer.drain_until_done(producers);
    producer.join();

    EXPECT_TRUE(filled) << "written " << reader->written();
    EXPECT_TRUE(still_blocked) << "the producer did not wait for the consumer";
    EXPECT_EQ(not_ok.load(), 0);
    ASSERT_EQ(all.size(), static_cast<std::size_t>(kTotal));
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].step, static_cast<std::int64_t>(i));
        EXPECT_EQ(all[i].value, static_cast<double>(i) / 3.0);
    }
    EXPECT_EQ(run.dropped(), 0u);
    EXPECT_EQ(reader->dropped(), 0u);
}

// lanes = 8: the producer owns lane 1; lanes = 1: it waits on the shared lane 0.
INSTANTIATE_TEST_SUITE_P(OwnAndSharedLane, BlockPolicyTest, ::testing::Values(8u, 1u));

}  // namespace
}  // namespace trainscope::test
