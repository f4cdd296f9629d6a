// Proves: the SDK gives each of the first lanes-1 threads that log to a Run a lane of its own
// and sends every later thread to the shared lane 0; a thread keeps its lane across Metrics,
// log-by-name and Runs it alternates between, and its lane is handed on once it has exited;
// a Metric copied to another thread writes that thread's lane; and a Run destroyed and
// recreated at the same address never lets a thread reuse the dead Run's lane without
// claiming one (two threads never end up on one owned lane).
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <trainscope/detail/ring_writer.hpp>

#include "ring/ring_fixture.hpp"
#include "support/segment_image.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using LaneAssignmentTest = RingTest;

/// Lane of every record of metric `name` in `all` (one entry per record).
std::set<std::uint32_t> lanes_of(const agent::SegmentReader& reader,
                                 const std::vector<agent::Record>& all, const std::string& name) {
    std::set<std::uint32_t> lanes;
    for (const agent::Record& r : all)
        if (reader.metric_name(r.metric_id) == name) lanes.insert(r.lane);
    return lanes;
}

std::vector<agent::Record> drain_all(agent::SegmentReader& reader) {
    std::vector<agent::Record> all;
    RingConsumer(reader).drain(all);
    return all;
}

TEST_F(LaneAssignmentTest, DistinctThreadsGetDistinctLanesAndOverflowThreadsLaneZero) {
    constexpr int kThreads = 10;  // 7 owned lanes + 3 on lane 0
    trainscope::Run run("lanes", options(64, OverflowPolicy::drop, 8));
    auto reader = open_reader();
    ASSERT_TRUE(reader);

    // All threads stay alive until all have logged: a thread id (and so a lane) is handed
    // on only after its thread ended.
    std::atomic<int> logged{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t)
        pool.emplace_back([&, t] {
            Metric m = run.metric("t" + std::to_string(t));
            for (int s = 0; s < 3; ++s) m.log(s, t);
            logged.fetch_add(1);
            while (logged.load() < kThreads) std::this_thread::yield();
        });
    for (auto& th : pool) th.join();

    std::vector<agent::Record> all = drain_all(*reader);
    ASSERT_EQ(all.size(), 3u * kThreads);
    std::map<std::uint32_t, int> threads_on;
    for (int t = 0; t < kThreads; ++t) {
        std::set<std::uint32_t> lanes = lanes_of(*reader, all, "t" + std::to_string(t));
        ASSERT_EQ(lanes.size(), 1u) << "thread " << t;
        ++threads_on[*lanes.begin()];
    }
    for (std::uint32_t lane = 1; lane < 8; ++lane)
        EXPECT_EQ(threads_on[lane], 1) << "lane " << lane << " must have exactly one thread";
    EXPECT_EQ(threads_on[0], kThreads - 7) << "threads beyond lanes-1 share lane 0";
    auto* h = reinterpret_cast<const layout::Header*>(&reader->identity());
    EXPECT_EQ(h->lanes_claimed.load(), 7u);
}

TEST_F(LaneAssignmentTest, ALaneIsHandedOnOnceItsThreadHasExited) {
    // One owned lane. A holds it; B, started while A lives, shares lane 0; C, started after
    // A has ended, takes A's lane over and continues its positions without a gap.
    trainscope::Run run("lanes", options(64, OverflowPolicy::drop, 2));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    std::atomic<long> a_tid{0};
    std::atomic<bool> b_done{false};
    std::thread a([&] {
        a_tid = detail::current_tid();
        run.log("a", 0, 1.0);
        run.log("a", 1, 1.0);
        while (!b_done) std::this_thread::yield();
    });
    while (a_tid == 0) std::this_thread::yield();
    std::thread([&] { run.log("b", 0, 2.0); }).join();
    b_done = true;
    a.join();
    // The kernel forgets a thread a moment after pthread_join returns.
    ASSERT_TRUE(wait_until([&] { return !detail::thread_alive(a_tid); }));
    std::thread([&] { run.log("c", 0, 3.0); }).join();

    std::vector<agent::Record> all = drain_all(*reader);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(lanes_of(*reader, all, "a"), std::set<std::uint32_t>{1});
    EXPECT_EQ(lanes_of(*reader, all, "b"), std::set<std::uint32_t>{0});
    EXPECT_EQ(lanes_of(*reader, all, "c"), std::set<std::uint32_t>{1});
    std::vector<agent::Record> lane1 = of_lane(all, 1);
    ASSERT_EQ(lane1.size(), 3u);
    for (std::size_t i = 0; i < lane1.size(); ++i) EXPECT_EQ(lane1[i].position, i);
}

TEST_F(LaneAssignmentTest, AnExitedThreadsUndrainedLaneIsNotHandedOnWhileLaneZeroHasMoreRoom) {
    // One owned lane of 64 slots. A fills 40 of them and exits before anyone drains (a burst
    // logged before the agent attached). C, started next, would drop 16 of its 40 records
    // on A's lane; lane 0 has room for all of them.
    trainscope::Run run("lanes", options(64, OverflowPolicy::drop, 2));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    std::atomic<long> a_tid{0};
    std::thread a([&] {
        a_tid = detail::current_tid();
        for (int s = 0; s < 40; ++s) run.log("a", s, 1.0);
    });
    a.join();
    ASSERT_TRUE(wait_until([&] { return !detail::thread_alive(a_tid); }));
    std::thread([&] { for (int s = 0; s < 40; ++s) run.log("c", s, 3.0); }).join();

    EXPECT_EQ(run.dropped(), 0u);
    std::vector<agent::Record> all = drain_all(*reader);
    ASSERT_EQ(all.size(), 80u);
    EXPECT_EQ(lanes_of(*reader, all, "a"), std::set<std::uint32_t>{1});
    EXPECT_EQ(lanes_of(*reader, all, "c"), std::set<std::uint32_t>{0});
}

TEST_F(LaneAssignmentTest, OneLaneMeansEveryThreadSharesLaneZero) {
    trainscope::Run run("lanes", options(64, OverflowPolicy::drop, 1));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    run.log("main", 0, 1.0);
    std::thread([&] { run.log("other", 0, 2.0); }).join();
    std::vector<agent::Record> all = drain_all(*reader);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(only_lane(all), 0);
}

TEST_F(LaneAssignmentTest, AThreadKeepsItsLaneAcrossMetricsAndLogByName) {
    trainscope::Run run("lanes", options(64));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    Metric a = run.metric("a"), b = run.metric("b");
    a.log(0, 1.0);
    b.log(0, 2.0);
    run.log("c", 0, 3.0);
    a.log(1, 4.0);
    std::vector<agent::Record> all = drain_all(*reader);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(only_lane(all), 1);
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].position, i);
}

TEST_F(LaneAssignmentTest, AMetricCopiedToAnotherThreadWritesThatThreadsLane) {
    trainscope::Run run("lanes", options(64));
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    Metric loss = run.metric("loss");
    ASSERT_EQ(loss.log(0, 0.5), LogStatus::ok);  // this thread: lane 1
    std::thread([copy = loss] {
        for (int s = 1; s <= 3; ++s) copy.log(s, 1.5);  // the other thread: its own lane
    }).join();
    ASSERT_EQ(loss.log(4, 0.5), LogStatus::ok);  // back on this thread: lane 1 again

    std::vector<agent::Record> all = drain_all(*reader);
    ASSERT_EQ(all.size(), 5u);
    std::map<std::int64_t, std::uint32_t> lane_of_step;
    for (const agent::Record& r : all) lane_of_step[r.step] = r.lane;
    EXPECT_EQ(lane_of_step[0], 1u);
    EXPECT_EQ(lane_of_step[4], 1u);
    for (int s = 1; s <= 3; ++s) EXPECT_EQ(lane_of_step[s], 2u) << "step " << s;
}

TEST_F(LaneAssignmentTest, AThreadAlternatingBetweenManyRunsKeepsOneLaneInEach) {
    // More Runs than the thread-local cache holds: the LaneSet's own map must give the
    // thread back the lane it already has, not a new one.
    constexpr int kRuns = 12;
    std::vector<std::unique_ptr<trainscope::Run>> runs;
    for (int i = 0; i < kRuns; ++i)
        runs.push_back(std::make_unique<trainscope::Run>("run" + std::to_string(i), options(64)));
    std::vector<Metric> metrics;
    for (auto& r : runs) metrics.push_back(r->metric("loss"));
    for (int round = 0; round < 3; ++round)
        for (Metric& m : metrics) ASSERT_EQ(m.log(round, round), LogStatus::ok);

    std::vector<std::string> names = trainer_segments(ns_.name());
    ASSERT_EQ(names.size(), static_cast<std::size_t>(kRuns));
    for (const std::string& name : names) {
        std::string why;
        bool not_ready = false;
        auto reader = agent::SegmentReader::open(name, &why, &not_ready);
        ASSERT_TRUE(reader) << why;
        std::vector<agent::Record> all = drain_all(*reader);
        ASSERT_EQ(all.size(), 3u) << name;
        EXPECT_EQ(only_lane(all), 1) << name;
        auto* h = reinterpret_cast<const layout::Header*>(&reader->identity());
        EXPECT_EQ(h->lanes_claimed.load(), 1u) << name << ": the thread claimed more than one lane";
    }
}

TEST_F(LaneAssignmentTest, RunRecreatedInPlaceNeverInheritsTheOldRunsLaneCache) {
    // The Run object itself lives at one address throughout; its LaneSet usually lands on
    // the address the previous one freed. Each time, this thread and another must get two
    // different lanes of the new segment, and every record must land in it.
    std::optional<trainscope::Run> run;
    for (int round = 0; round < 5; ++round) {
        run.emplace("recreated", options(64));
        auto reader = open_reader();
        ASSERT_TRUE(reader);
        Metric m = run->metric("loss");
        ASSERT_EQ(m.log(round, 1.0), LogStatus::ok);  // this thread first...
        std::thread([m] { m.log(100, 2.0); }).join();  // ...then another one
        std::vector<agent::Record> all = drain_all(*reader);
        ASSERT_EQ(all.size(), 2u) << "round " << round;
        EXPECT_NE(all[0].lane, all[1].lane) << "round " << round << ": two threads on one lane";
        EXPECT_NE(all[0].lane, 0u);
        EXPECT_NE(all[1].lane, 0u);
        run.reset();
        reader.reset();
        remove_shm_files(ns_.name());
    }
}

TEST(LaneCacheTest, ALaneSetRebuiltAtTheSameAddressIsClaimedAfresh) {
    // Deterministic version of the test above: two LaneSets built in turn in one buffer, so
    // their addresses are certainly equal; only the generation tells them apart.
    SegmentImage first(64, 4), second(64, 4);
    alignas(detail::LaneSet) static unsigned char storage[sizeof(detail::LaneSet)];
    auto clock = detail::WallClock::make(Timestamps::coarse);

    auto* a = new (storage) detail::LaneSet(&first.header(), 4, 64, false, clock);
    ASSERT_EQ(detail::push(detail::RingRef{a, a->generation()}, 0, 1, 1.0), LogStatus::ok);
    EXPECT_EQ(first.header().lanes[1].write_pos.load(), 1u) << "this thread claimed lane 1";
    a->~LaneSet();

    auto* b = new (storage) detail::LaneSet(&second.header(), 4, 64, false, clock);
    ASSERT_EQ(static_cast<void*>(a), static_cast<void*>(b));
    detail::RingRef ref{b, b->generation()};
    // Another thread claims first: it gets lane 1 of the new set...
    std::thread([ref] { detail::push(ref, 0, 2, 2.0); }).join();
    EXPECT_EQ(second.header().lanes[1].write_pos.load(), 1u);
    // ...so this thread, whose cache still holds lane 1 at this address, must claim again
    // and get lane 2: a stale cache hit would put two producers on lane 1.
    ASSERT_EQ(detail::push(ref, 0, 3, 3.0), LogStatus::ok);
    EXPECT_EQ(second.header().lanes[1].write_pos.load(), 1u) << "stale lane reused";
    EXPECT_EQ(second.header().lanes[2].write_pos.load(), 1u);
    EXPECT_EQ(first.header().lanes[1].write_pos.load(), 1u) << "a record went to the dead set";
    b->~LaneSet();
}

}  // namespace
}  // namespace trainscope::test
