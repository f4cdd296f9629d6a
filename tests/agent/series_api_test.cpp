// Proves: GET /api/runs/{id}/metrics/{name} serves a long series downsampled (at most
// max_points, "total" counting every point, first and last step present, exact values,
// step order), serves it at full resolution when it fits or a from/to range is asked for,
// takes metric names with '/' percent-encoded, selects ranks with ?rank=, and answers ?last=1
// with the newest point alone.
#include <unistd.h>

#include "agent/agent_harness.hpp"
#include "agent/producer_pattern.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

using SeriesApiTest = AgentProcessTest;

struct Series {
    int status = 0;
    bool downsampled = false;
    std::int64_t total = -1;
    int rank = -1;
    std::vector<std::pair<std::int64_t, double>> points;  ///< (step, value)
};

Series fetch(const AgentHarness& h, const std::string& target) {
    Series s;
    HttpResponse r = h.get(target);
    s.status = r.status;
    rapidjson::Document doc = parse_json(r.body);
    if (r.status != 200 || doc.HasParseError() || !doc.IsObject()) return s;
    s.downsampled = doc["downsampled"].GetBool();
    s.total = doc["total"].GetInt64();
    s.rank = doc["rank"].GetInt();
    for (const auto& p : doc["points"].GetArray())
        s.points.emplace_back(p[0].GetInt64(), p[2].IsNumber() ? p[2].GetDouble() : 0.0);
    return s;
}

::testing::AssertionResult exact_and_ordered(const Series& s, int thread, int metric) {
    for (std::size_t i = 0; i < s.points.size(); ++i) {
        auto [step, value] = s.points[i];
        if (value != pattern_value(thread, metric, step))
            return ::testing::AssertionFailure() << "step " << step << " has value " << value;
        if (i > 0 && s.points[i - 1].first >= step)
            return ::testing::AssertionFailure()
                   << "step " << step << " after " << s.points[i - 1].first;
    }
    return ::testing::AssertionSuccess();
}

TEST_F(SeriesApiTest, LongSeriesIsDownsampledKeepingTheEnds) {
    ChildProcess& trainer = h_.start_producer({"--steps", "20000"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(h_.wait_status(id, "finished"));
    const std::string base = "/api/runs/" + id + "/metrics/t0%2Fm0";

    Series down = fetch(h_, base + "?max_points=1000");
    ASSERT_EQ(down.status, 200);
    EXPECT_TRUE(down.downsampled);
    EXPECT_EQ(down.total, 20000);
    EXPECT_LE(down.points.size(), 1000u);
    EXPECT_GE(down.points.size(), 500u);
    ASSERT_FALSE(down.points.empty());
    EXPECT_EQ(down.points.front().first, 0);
    EXPECT_EQ(down.points.back().first, 19999);
    EXPECT_TRUE(exact_and_ordered(down, 0, 0));

    Series by_default = fetch(h_, base);
    EXPECT_TRUE(by_default.downsampled);
    EXPECT_LE(by_default.points.size(), 2000u);

    Series full = fetch(h_, base + "?max_points=20000");
    EXPECT_FALSE(full.downsampled);
    EXPECT_EQ(full.points.size(), 20000u);
    EXPECT_TRUE(exact_and_ordered(full, 0, 0));

    Series range = fetch(h_, base + "?from=100&to=199&max_points=1000");
    EXPECT_FALSE(range.downsampled);
    EXPECT_EQ(range.total, 100);
    ASSERT_EQ(range.points.size(), 100u);
    EXPECT_EQ(range.points.front().first, 100);
    EXPECT_EQ(range.points.back().first, 199);
}

TEST_F(SeriesApiTest, LastIsTheNewestPointAlone) {
    ChildProcess& trainer = h_.start_producer({"--steps", "20000"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(h_.wait_status(id, "finished"));
    const std::string base = "/api/runs/" + id + "/metrics/t0%2Fm0";
    Series last = fetch(h_, base + "?last=1");
    ASSERT_EQ(last.status, 200);
    ASSERT_EQ(last.points.size(), 1u);
    EXPECT_EQ(last.points[0].first, 19999);
    EXPECT_EQ(last.points[0].second, pattern_value(0, 0, 19999));
    EXPECT_EQ(last.total, 1);
    EXPECT_FALSE(last.downsampled);
    // It ignores nothing silently: a range or a budget with it is refused.
    EXPECT_TRUE(is_json_error_response(h_.get(base + "?last=1&max_points=5"), 400, 400));
    EXPECT_TRUE(is_json_error_response(h_.get(base + "?last=1&from=10"), 400, 400));
    EXPECT_TRUE(is_json_error_response(h_.get(base + "?last=2"), 400, 400));
}

TEST_F(SeriesApiTest, NamesWithSlashTravelPercentEncoded) {
    ChildProcess& trainer = h_.start_producer({"--threads", "2", "--steps", "50"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(h_.wait_status(id, "finished"));
    EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{id, 1, 0, 50}));
    Series lower = fetch(h_, "/api/runs/" + id + "/metrics/t1%2fm0");
    EXPECT_EQ(lower.status, 200);
    EXPECT_EQ(lower.points.size(), 50u);
    // Unencoded, the slash is a path separator: no such route.
    HttpResponse raw = h_.get("/api/runs/" + id + "/metrics/t1/m0");
    EXPECT_TRUE(is_json_error_response(raw, 404, 404));
}

TEST_F(SeriesApiTest, RankSelectsOneRanksSeries) {
    const std::string id = "ranks-" + std::to_string(::getpid());
    ChildProcess& rank0 =
        h_.start_producer({"--steps", "300"}, {{"TRAINSCOPE_RUN_ID", id}, {"RANK", "0"}});
    ChildProcess& rank1 = h_.start_producer({"--steps", "200", "--start_step", "100000"},
                                            {{"TRAINSCOPE_RUN_ID", id}, {"RANK", "1"}});
    EXPECT_EQ(AgentHarness::session_of(rank0), id);
    EXPECT_EQ(AgentHarness::session_of(rank1), id);
    ASSERT_TRUE(AgentHarness::done_of(rank0) && AgentHarness::done_of(rank1));
    // Rank 0 may end before rank 1's segment is attached (the run is then "finished" for a
    // moment): wait for both ranks' points first.
    ASSERT_TRUE(h_.wait_points(id, 500));
    ASSERT_TRUE(h_.wait_status(id, "finished"));

    rapidjson::Document run = h_.run(id);
    ASSERT_TRUE(run.IsObject() && run["ranks"].IsArray());
    ASSERT_EQ(run["ranks"].Size(), 2u);
    EXPECT_EQ(run["ranks"][0].GetInt(), 0);
    EXPECT_EQ(run["ranks"][1].GetInt(), 1);
    EXPECT_EQ(run["points"].GetInt64(), 500);

    EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{id, 0, 0, 300, 0, 0}));
    EXPECT_TRUE(rest_series_exact(h_, SeriesSpan{id, 0, 0, 200, 100000, 1}));
    Series lowest = fetch(h_, "/api/runs/" + id + "/metrics/t0%2Fm0");
    EXPECT_EQ(lowest.rank, 0);
    EXPECT_EQ(lowest.total, 300);
    EXPECT_EQ(fetch(h_, "/api/runs/" + id + "/metrics/t0%2Fm0?rank=1").rank, 1);
    EXPECT_TRUE(
        is_json_error_response(h_.get("/api/runs/" + id + "/metrics/t0%2Fm0?rank=2"), 404, 404));
}

}  // namespace
}  // namespace trainscope::test
