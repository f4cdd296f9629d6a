// Proves: lane 0 counts a drop only when it is full. Many threads share lane 0 while a
// consumer drains it the way the agent does. Each thread logs only while the lane is at most
// half full (checked before each call), so at most half a lane plus one record per thread is
// ever claimed: the lane always has room, and a single drop is a false one. To make the
// scheduler's preemptions frequent (as on a loaded machine), a thread interrupts the
// producers with a signal whose handler sleeps briefly: a producer is stopped at an arbitrary
// instruction of log() while the others log and the consumer releases slots, the situation
// in which a stale write position compared against a newer read position looks "full".
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using SharedLaneDropTest = RingTest;

constexpr std::uint32_t kCapacity = 4096;
constexpr int kThreads = 16;
constexpr std::int64_t kPerThread = 50000;

/// Slots claimed but not yet released on lane 0. read_pos is read first: it only grows and
/// never passes write_pos, so the answer never wraps and can only overstate what is in use.
std::uint64_t in_use(const agent::SegmentReader& reader) {
    std::uint64_t read = reader.read_pos(0);
    return reader.write_pos(0) - read;
}

/// A preemption, where the signal lands: the thread is off the CPU for a while.
void pause_here(int) {
    timespec t{0, 300'000};
    ::nanosleep(&t, nullptr);
}

TEST_F(SharedLaneDropTest, ManyThreadsOnALaneWithRoomDropNothing) {
    static_assert(kCapacity / 2 + kThreads < kCapacity, "the lane can never fill");
    struct sigaction action{}, previous{};
    action.sa_handler = pause_here;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    ASSERT_EQ(::sigaction(SIGURG, &action, &previous), 0);

    trainscope::Run run("shared-lane", options(kCapacity, OverflowPolicy::drop, 1));
    Metric metric = run.metric("loss");
    auto reader = open_reader();
    ASSERT_TRUE(reader);

    std::atomic<int> producers{kThreads};
    std::atomic<int> not_ok{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t)
        pool.emplace_back([&, t] {
            for (std::int64_t s = 0; s < kPerThread; ++s) {
                while (in_use(*reader) >= kCapacity / 2) std::this_thread::yield();
                if (metric.log(s, t) != LogStatus::ok) not_ok.fetch_add(1);
            }
            producers.fetch_sub(1, std::memory_order_release);
        });
    std::thread preempter([&] {
        for (unsigned i = 0; producers.load(std::memory_order_acquire) > 0; ++i) {
            ::pthread_kill(pool[i % kThreads].native_handle(), SIGURG);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    });
    RingConsumer consumer(*reader);
    std::vector<agent::Record> all = consumer.drain_until_done(producers);
    preempter.join();
    for (auto& th : pool) th.join();
    ::sigaction(SIGURG, &previous, nullptr);

    EXPECT_EQ(run.dropped(), 0u) << "drops counted on a lane that always had room";
    EXPECT_EQ(not_ok.load(), 0);
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace trainscope::test
