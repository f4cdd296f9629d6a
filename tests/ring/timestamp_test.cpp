// Proves: every record carries the wall clock of its log() call as Unix nanoseconds — with
// the default coarse clock within the clock's resolution (plus a little slack) of the system
// clock read around the call, with the precise clock between those two readings — and the
// stamps follow real time (records logged 30 ms apart are ~30 ms apart), so nothing caches
// a stale time. The segment says which clock it used.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "ring/ring_fixture.hpp"

namespace trainscope::test {
namespace {

using TimestampTest = RingTest;
using std::chrono::milliseconds;

std::int64_t system_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t coarse_resolution_ns() {
    timespec res{};
    ::clock_getres(CLOCK_REALTIME_COARSE, &res);
    return res.tv_sec * 1'000'000'000 + res.tv_nsec;
}

RunOptions with_clock(RunOptions o, Timestamps t) {
    o.timestamps = t;
    return o;
}

TEST_F(TimestampTest, CoarseStampsAreWithinTheClockResolutionOfWallTime) {
    trainscope::Run run("clock", options(1024));
    Metric m = run.metric("loss");
    std::vector<std::pair<std::int64_t, std::int64_t>> windows;  // (before, after) per record
    for (int i = 0; i < 20; ++i) {
        std::int64_t before = system_ns();
        ASSERT_EQ(m.log(i, 0.0), LogStatus::ok);
        windows.emplace_back(before, system_ns());
        std::this_thread::sleep_for(milliseconds(1));
    }
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->identity().clock_kind, layout::kClockRealtimeCoarse);
    EXPECT_EQ(static_cast<std::int64_t>(reader->identity().clock_resolution_ns),
              coarse_resolution_ns());
    std::vector<agent::Record> got;
    RingConsumer(*reader).drain(got);
    ASSERT_EQ(got.size(), windows.size());
    // The coarse clock is the last kernel tick: never ahead of the precise one, behind it by
    // its resolution — and, on a tickless kernel under load, by up to about one more tick
    // (seen: 7.8 ms with 4 ms ticks). Slack: two ticks plus 5 ms; a broken clock is far off.
    const std::int64_t behind = 2 * coarse_resolution_ns() + 5'000'000;
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_LE(got[i].unix_ns, windows[i].second) << "record " << i << " is in the future";
        EXPECT_GE(got[i].unix_ns, windows[i].first - behind)
            << "record " << i << " is " << (windows[i].first - got[i].unix_ns) / 1e6
            << " ms stale (resolution " << coarse_resolution_ns() / 1e6 << " ms)";
    }
}

TEST_F(TimestampTest, PreciseStampsLieBetweenTheReadingsAroundTheCall) {
    trainscope::Run run("clock", with_clock(options(64), Timestamps::precise));
    std::int64_t before = system_ns();
    ASSERT_EQ(run.log("loss", 0, 1.0), LogStatus::ok);
    std::int64_t after = system_ns();
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->identity().clock_kind, layout::kClockRealtime);
    std::vector<agent::Record> got;
    RingConsumer(*reader).drain(got);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_GE(got[0].unix_ns, before);
    EXPECT_LE(got[0].unix_ns, after);
}

TEST_F(TimestampTest, CoarseStampsFollowRealTimeAcrossCalls) {
    trainscope::Run run("clock", options(64));
    Metric m = run.metric("loss");
    std::int64_t t0 = system_ns();
    ASSERT_EQ(m.log(0, 0.0), LogStatus::ok);
    std::this_thread::sleep_for(milliseconds(30));
    std::int64_t elapsed = system_ns() - t0;
    ASSERT_EQ(m.log(1, 0.0), LogStatus::ok);
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    std::vector<agent::Record> got;
    RingConsumer(*reader).drain(got);
    ASSERT_EQ(got.size(), 2u);
    std::int64_t gap = got[1].unix_ns - got[0].unix_ns;
    const std::int64_t res = coarse_resolution_ns() + 2'000'000;
    EXPECT_GE(gap, elapsed - 2 * res) << "the second stamp is stale";
    EXPECT_GT(gap, 0);
}

TEST_F(TimestampTest, AnchorIsTheRunsStartTime) {
    std::int64_t before = system_ns();
    trainscope::Run run("clock", options(64));
    std::int64_t after = system_ns();
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    EXPECT_GE(reader->identity().anchor_unix_ns, before);
    EXPECT_LE(reader->identity().anchor_unix_ns, after);
}

TEST_F(TimestampTest, LogAtKeepsTheCallersTime) {
    // An older log replayed: its points keep their own times, 30 s and more in the past,
    // whichever lane the logging thread writes.
    trainscope::Run run("clock", options(64));
    Metric m = run.metric("loss");
    const auto base =
        std::chrono::system_clock::time_point(std::chrono::nanoseconds(1'700'000'000'123'456'789));
    ASSERT_EQ(m.log_at(0, 1.0, base), LogStatus::ok);
    std::thread other(
        [&] { EXPECT_EQ(m.log_at(1, 2.0, base + std::chrono::seconds(30)), LogStatus::ok); });
    other.join();
    ASSERT_EQ(m.log(2, 3.0), LogStatus::ok);  // the clock again
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    std::vector<agent::Record> got;
    RingConsumer(*reader).drain(got);
    ASSERT_EQ(got.size(), 3u);
    std::sort(got.begin(), got.end(),
              [](const agent::Record& a, const agent::Record& b) { return a.step < b.step; });
    EXPECT_EQ(got[0].unix_ns, 1'700'000'000'123'456'789);
    EXPECT_EQ(got[1].unix_ns, 1'700'000'030'123'456'789);
    EXPECT_GT(got[2].unix_ns, system_ns() - 60'000'000'000) << "log() still reads the clock";
    EXPECT_EQ(Metric().log_at(0, 1.0, base), LogStatus::disabled);
}

}  // namespace
}  // namespace trainscope::test
