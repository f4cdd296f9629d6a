// Proves: /metrics carries the newest value and step of every metric and rank of a live run
// (NaN as the format's NaN, label values escaped), and ended runs leave the exposition after
// --metrics-keep-ended, so a Prometheus scraping for months holds a bounded set of series.
#include <filesystem>
#include <fstream>

#include "agent/agent_harness.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

std::string metrics_text(const AgentHarness& h) {
    HttpResponse r = h.get("/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

std::string run_labels(const std::string& id, const std::string& name) {
    return "session_id=\"" + id + "\",run=\"" + name + "\"";
}

TEST(PrometheusExposition, NewestValueOfEveryMetricAndRank) {
    AgentHarness h;
    ASSERT_TRUE(h.start_agent());
    TempDir dir;
    const std::string finish = dir.path() + "/finish";
    ChildProcess& trainer = h.start_producer(
        {"--name", "live", "--steps", "50", "--series", "val/loss:3.5,2.25", "--series",
         "grad \"norm\":1,nan", "--finish_when", finish});
    std::string id = AgentHarness::session_of(trainer);
    // t0/m0 at step s logs s * 0.5: 50 steps end at step 49, value 24.5.
    ASSERT_TRUE(h.wait_points(id, 54));
    std::string text = metrics_text(h);
    const std::string run = run_labels(id, "live");
    EXPECT_TRUE(has_line(text, "trainscope_metric_last{" + run + ",metric=\"t0/m0\",rank=\"0\"} 24.5")) << text;
    EXPECT_TRUE(has_line(text, "trainscope_metric_last_step{" + run + ",metric=\"t0/m0\",rank=\"0\"} 49")) << text;
    EXPECT_TRUE(has_line(text, "trainscope_metric_last{" + run + ",metric=\"val/loss\",rank=\"0\"} 2.25")) << text;
    EXPECT_TRUE(has_line(text, "trainscope_metric_last{" + run + ",metric=\"grad \\\"norm\\\"\",rank=\"0\"} NaN")) << text;
    EXPECT_TRUE(has_line(text, "trainscope_run_running{" + run + "} 1")) << text;
    EXPECT_TRUE(has_line(text, "trainscope_metric_runs_truncated 0")) << text;
    std::ofstream(finish).put('\n');
    ASSERT_TRUE(h.wait_status(id, "finished"));
}

TEST(PrometheusExposition, EndedRunsLeaveAfterTheKeepTime) {
    AgentHarness h;
    ASSERT_TRUE(h.start_agent({"--metrics-keep-ended=5"}));
    TempDir dir;
    const std::string finish = dir.path() + "/finish";
    ChildProcess& ending = h.start_producer({"--name", "ending", "--steps", "10"});
    ChildProcess& live = h.start_producer({"--name", "still", "--steps", "10", "--finish_when", finish});
    std::string ended_id = AgentHarness::session_of(ending);
    std::string live_id = AgentHarness::session_of(live);
    ASSERT_TRUE(h.wait_status(ended_id, "finished"));
    ASSERT_TRUE(h.wait_points(live_id, 10));

    // Just ended: still exposed (its final values are what a dashboard wants to see).
    EXPECT_NE(metrics_text(h).find("session_id=\"" + ended_id + "\""), std::string::npos);
    // Past the keep time, the ended run is gone and the running one stays however old.
    EXPECT_TRUE(wait_until([&] {
        return metrics_text(h).find("session_id=\"" + ended_id + "\"") == std::string::npos;
    }, 20s, 200ms));
    std::string text = metrics_text(h);
    EXPECT_TRUE(has_line(text, "trainscope_run_running{" + run_labels(live_id, "still") + "} 1")) << text;
    // The run stays in the store: only the exposition forgets it.
    EXPECT_EQ(h.get("/api/runs/" + ended_id).status, 200);
    std::ofstream(finish).put('\n');
    ASSERT_TRUE(h.wait_status(live_id, "finished"));
}

TEST(PrometheusExposition, RefusesABadKeepTime) {
    ChildProcess agent(TS_AGENT_BIN, {"--port=0", "--metrics-keep-ended=soon"});
    std::optional<int> status = agent.wait_exit(10s);
    ASSERT_TRUE(status.has_value());
    EXPECT_NE(*status, 0);
    bool named = false;
    for (const std::string& line : agent.stderr_lines())
        named = named || line.find("--metrics-keep-ended wants seconds") != std::string::npos;
    EXPECT_TRUE(named);
}

}  // namespace
}  // namespace trainscope::test
