// Ranks of one distributed job: two trainer processes share TRAINSCOPE_RUN_ID and tell
// themselves apart by RANK. One agent (started by the test) keeps one run with a series per
// (rank, metric); the run finishes only when its last rank does.
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "autostart/autostart_env.hpp"
#include "autostart/rest.hpp"
#include "support/json.hpp"
#include "support/shm_names.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

constexpr std::int64_t kSteps = 1000;
constexpr int kMetrics = 2;
constexpr double kRank1Offset = 100000;  // rank 1 logs the same steps with other values

std::string unique_run_id() {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch()).count();
    return "ranks-" + std::to_string(::getpid()) + "-" + std::to_string(ms % 100000000);
}

bool has_segment_of(const std::string& ns, pid_t pid) {
    std::string prefix = ns + "." + std::to_string(pid) + ".";
    for (const std::string& s : trainer_segments(ns))
        if (s.compare(0, prefix.size(), prefix) == 0) return true;
    return false;
}

TEST_F(AutostartTest, RanksShareOneRunKeepTheirOwnSeriesAndFinishTogether) {
    unsigned short port = start_own_agent();
    ASSERT_NE(port, 0);
    const std::string run_id = unique_run_id();
    const std::string release = scratch_path("release-rank1");
    auto args = [&](double offset) {
        return std::vector<std::string>{"--name", "ddp", "--threads", "1", "--metrics",
                                        std::to_string(kMetrics), "--steps", std::to_string(kSteps),
                                        "--value_offset", std::to_string(offset)};
    };
    auto env = [&](int rank) {
        return ChildProcess::Env{{"TRAINSCOPE_RUN_ID", run_id}, {"RANK", std::to_string(rank)},
                                 {"TRAINSCOPE_AUTOSTART", "0"}};
    };

    // Rank 1 first, so its series are created first: "lowest rank" must not mean "oldest".
    std::vector<std::string> rank1_args = args(kRank1Offset);
    rank1_args.insert(rank1_args.end(), {"--finish_when", release});
    ChildProcess& rank1 = start_trainer(rank1_args, env(1));
    ASSERT_EQ(session_of(rank1), run_id);
    ASSERT_TRUE(rank1.wait_stdout_prefix("done ", 10s));
    ASSERT_TRUE(wait_run_stored(port, run_id, "running", kSteps * kMetrics));

    ChildProcess& rank0 = start_trainer(args(0), env(0));
    ASSERT_EQ(session_of(rank0), run_id);
    pid_t rank0_pid = rank0.pid();
    ASSERT_TRUE(finished_cleanly(rank0));
    ASSERT_TRUE(wait_run(
        port, run_id,
        [](const rapidjson::Value& run) {
            auto points = run.FindMember("points");
            return int_array(run, "ranks") == std::vector<std::int64_t>{0, 1} &&
                   points != run.MemberEnd() && points->value.IsInt64() &&
                   points->value.GetInt64() == 2 * kSteps * kMetrics;
        },
        "holding both ranks' points"));
    // Rank 0 is finished and its segment stored and removed; rank 1 still runs: so does the run.
    ASSERT_TRUE(wait_until([&] { return !has_segment_of(ns(), rank0_pid); }, 10s));
    ASSERT_TRUE(rank1.running());
    rapidjson::Document run = get_json(port, "/api/runs/" + run_id);
    EXPECT_EQ(string_member(run, "status"), "running");

    // One run in the list, with both ranks.
    rapidjson::Document runs = get_json(port, "/api/runs");
    ASSERT_TRUE(runs.IsObject() && runs.HasMember("runs") && runs["runs"].IsArray());
    int listed = 0;
    for (const auto& r : runs["runs"].GetArray())
        if (string_member(r, "session_id") == run_id) {
            ++listed;
            EXPECT_EQ(int_array(r, "ranks"), (std::vector<std::int64_t>{0, 1}));
        }
    EXPECT_EQ(listed, 1);

    // Each rank's series holds its own points exactly; no rank given: the lowest, rank 0.
    for (int m = 0; m < kMetrics; ++m) {
        EXPECT_TRUE(series_is(port, run_id, 0, 0, RankSeries{m, kSteps, 0}));
        EXPECT_TRUE(series_is(port, run_id, 1, 1, RankSeries{m, kSteps, kRank1Offset}));
        EXPECT_TRUE(series_is(port, run_id, -1, 0, RankSeries{m, kSteps, 0}));
    }

    std::ofstream(release).put('\n');
    ASSERT_TRUE(finished_cleanly(rank1));
    EXPECT_TRUE(wait_run_stored(port, run_id, "finished", 2 * kSteps * kMetrics));
}

}  // namespace
}  // namespace trainscope::test
