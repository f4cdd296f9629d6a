// Proves: a trainer that dies without finishing loses nothing it published. Killed with
// SIGKILL after logging everything, mid-run, or exiting without finish(): every published
// point is stored once, the run reads "crashed" within a few seconds, and the segment is
// removed. A killed trainer its parent has not yet reaped (a zombie) counts as dead too.
#include <signal.h>

#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using TrainerCrashTest = AgentProcessTest;

constexpr int kThreads = 2;
constexpr int kMetrics = 2;
PatternShape shape(std::int64_t steps) {
    return PatternShape{kThreads, kMetrics, steps};
}
constexpr auto kCrashDeadline = 4s;  // liveness is checked every 250 ms; drain, commit, slack

/// ts-producer arguments for `steps` steps under the block policy (nothing dropped, so
/// "published" is everything logged), then `extra`.
std::vector<std::string> pattern_args(std::int64_t steps, const std::vector<std::string>& extra) {
    std::vector<std::string> all = extra;
    all.push_back("--block");
    return shape(steps).args(all);
}

TEST_F(TrainerCrashTest, KilledAfterLoggingEverythingIsStoredAndCrashed) {
    constexpr std::int64_t kSteps = 20000;
    ChildProcess& trainer = h_.start_producer(pattern_args(kSteps, {"--hold_ms", "60000"}));
    std::string id = AgentHarness::session_of(trainer);
    EXPECT_EQ(AgentHarness::done_of(trainer), std::optional<std::uint64_t>(0))
        << "not done, or dropped";
    trainer.kill_now();  // SIGKILL and reap, before the agent necessarily stored it all

    EXPECT_TRUE(h_.wait_status(id, "crashed", kCrashDeadline));
    EXPECT_TRUE(h_.wait_segments_removed());
    expect_db_complete(h_, id, shape(kSteps));
}

TEST_F(TrainerCrashTest, KilledMidRunKeepsEveryPublishedPoint) {
    ChildProcess& trainer = h_.start_producer(pattern_args(1000000, {"--rate", "20000"}));
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(h_.wait_points(id, 5000));
    // Map the segment ourselves first: after the kill it tells what the trainer published.
    auto segment = h_.open_trainer_segment();
    ASSERT_TRUE(segment);
    trainer.kill_now();

    // Published = claimed positions minus slots claimed but never published (possible only
    // on the shared lane 0, at most one per thread there, in each lane's last lap).
    std::uint64_t claimed = segment->written();
    std::uint64_t capacity = segment->identity().slot_count;
    agent::LaneCursors cursors(segment->lane_count());
    for (std::uint32_t k = 0; k < cursors.size(); ++k) {
        std::uint64_t end = segment->write_pos(k);
        cursors[k] = end > capacity ? end - capacity : 0;
    }
    std::uint64_t unpublished = 0;
    std::vector<agent::Record> window;
    segment->drain(cursors, capacity * cursors.size(), true, window, &unpublished);
    std::int64_t published = static_cast<std::int64_t>(claimed - unpublished);

    EXPECT_TRUE(h_.wait_status(id, "crashed", kCrashDeadline));
    EXPECT_TRUE(h_.wait_segments_removed());
    SqliteReader db(h_.db_path());
    EXPECT_EQ(db_points_of(db, id), published);
    for (int t = 0; t < kThreads; ++t)
        for (int m = 0; m < kMetrics; ++m) {
            std::int64_t n = 0;
            EXPECT_TRUE(db_series_prefix(db, SeriesSpan{id, t, m, 1000000}, &n));
            EXPECT_GT(n, 0);
        }
}

TEST_F(TrainerCrashTest, ExitWithoutFinishIsCrashed) {
    constexpr std::int64_t kSteps = 1000;
    ChildProcess& trainer = h_.start_producer(pattern_args(kSteps, {"--crash"}));
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(trainer.wait_exit(10s));
    EXPECT_TRUE(h_.wait_status(id, "crashed", kCrashDeadline));
    EXPECT_TRUE(h_.wait_segments_removed());
    expect_db_complete(h_, id, shape(kSteps));
}

TEST_F(TrainerCrashTest, KilledButNotYetReapedIsCrashed) {
    constexpr std::int64_t kSteps = 1000;
    ChildProcess& trainer = h_.start_producer(pattern_args(kSteps, {"--hold_ms", "60000"}));
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(AgentHarness::done_of(trainer));
    trainer.signal(SIGKILL);  // dead, but a zombie until its parent (this test) reaps it
    EXPECT_TRUE(h_.wait_status(id, "crashed", kCrashDeadline));
    trainer.kill_now();
    expect_db_complete(h_, id, shape(kSteps));
}

}  // namespace
}  // namespace trainscope::test
