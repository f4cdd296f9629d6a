// A restarted agent feeds its plugins the stored points first: a run's statistics cover the
// whole run, not just what arrived after the restart, and nothing the plugins derive from the
// old points (derived series, alerts) is stored twice.
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <string>
#include <thread>

#include "plugin_agent_fixture.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

class PluginCatchUpTest : public PluginAgentTest {
protected:
    /// {"<plugin>": {stats...}} of the run (an empty object when no plugin published yet).
    rapidjson::Document analytics(const std::string& session) {
        auto doc = parse_json(http_get(port_, "/api/runs/" + session + "/analytics").body);
        rapidjson::Document stats;
        if (doc.IsObject() && doc.HasMember("stats")) stats.CopyFrom(doc["stats"], stats.GetAllocator());
        else stats.SetObject();
        return stats;
    }

    rapidjson::Document run_info(const std::string& session) {
        return parse_json(http_get(port_, "/api/runs/" + session).body);
    }

    std::int64_t events(const std::string& session) {
        auto doc = parse_json(http_get(port_, "/api/runs/" + session + "/events").body);
        return doc.IsObject() && doc.HasMember("events") ? static_cast<std::int64_t>(doc["events"].Size()) : -1;
    }

    /// The mean of every stored train/loss point, at full resolution.
    double stored_mean_loss(const std::string& session, std::size_t expect_points) {
        auto doc = parse_json(
            http_get(port_, "/api/runs/" + session + "/metrics/train%2Floss?max_points=100000").body);
        const auto& points = doc["points"].GetArray();
        EXPECT_EQ(points.Size(), expect_points);
        double sum = 0;
        for (const auto& p : points) sum += p[2].GetDouble();
        return sum / points.Size();
    }

    void restart_agent() {
        agent_->kill_now();
        start_agent(TS_PLUGIN_DIR);
    }
};

TEST_F(PluginCatchUpTest, FinishedRunKeepsItsStatisticsAndNothingIsDerivedTwice) {
    start_agent(TS_PLUGIN_DIR);
    // NaN from step 2500: the trend plugin raises an alert, kept as an event.
    std::string session = run_producer({"--loss_only", "--steps", "3000", "--nan_at", "2500"});
    ASSERT_FALSE(session.empty());
    std::set<std::string> plugins_before;
    ASSERT_TRUE(wait_until([&] {
        auto a = analytics(session);
        auto run = run_info(session);
        if (!a.IsObject() || !a.HasMember("statistics") || string_member(run, "status") != "finished") return false;
        plugins_before.clear();
        for (const auto& m : a.GetObject()) plugins_before.insert(m.name.GetString());
        return a["statistics"]["step"].GetInt64() == 2999 && plugins_before.count("trend");
    }));
    // Let the end-of-run output (velocity's last points) land, then take the counts.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto before = analytics(session);
    std::int64_t points_before = run_info(session)["points"].GetInt64();
    std::int64_t events_before = events(session);
    ASSERT_GT(events_before, 0) << "the NaN alert should be stored";

    restart_agent();

    std::set<std::string> plugins_after;
    ASSERT_TRUE(wait_until([&] {
        auto a = analytics(session);
        plugins_after.clear();
        for (const auto& m : a.GetObject()) plugins_after.insert(m.name.GetString());
        return plugins_after == plugins_before;
    })) << "after the restart the run lacks statistics from its stored points (" << plugins_after.size()
         << " of " << plugins_before.size() << " plugins)";
    auto after = analytics(session);
    const auto& s0 = before["statistics"];
    const auto& s1 = after["statistics"];
    EXPECT_EQ(s1["step"].GetInt64(), 2999);
    EXPECT_DOUBLE_EQ(s1["mean_loss"].GetDouble(), s0["mean_loss"].GetDouble());
    EXPECT_DOUBLE_EQ(s1["best_val_loss"].GetDouble(), s0["best_val_loss"].GetDouble());
    EXPECT_EQ(s1["best_val_step"].GetInt64(), s0["best_val_step"].GetInt64());
    EXPECT_EQ(s1["non_finite"].GetInt64(), 500);

    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(run_info(session)["points"].GetInt64(), points_before) << "derived points stored twice";
    EXPECT_EQ(events(session), events_before) << "alerts raised twice";
}

TEST_F(PluginCatchUpTest, RunningRunStatisticsCoverPointsFromBeforeTheRestart) {
    start_agent(TS_PLUGIN_DIR);
    ChildProcess trainer(TS_PRODUCER_BIN, {"--loss_only", "--steps", "6000", "--rate", "2000"},
                         {{"TRAINSCOPE_NAMESPACE", ns_.name()}, {"TRAINSCOPE_AUTOSTART", "0"}});
    auto session = trainer.wait_stdout_prefix("session ");
    ASSERT_TRUE(session);
    ASSERT_TRUE(wait_until([&] {
        auto run = run_info(*session);
        return run.IsObject() && run.HasMember("points") && run["points"].GetInt64() >= 1500;
    }));

    restart_agent();

    ASSERT_TRUE(trainer.wait_stdout_prefix("done ", 30s));
    trainer.wait_exit(10s);
    ASSERT_TRUE(wait_until([&] {
        auto a = analytics(*session);
        return a.IsObject() && a.HasMember("statistics") && a["statistics"]["step"].GetInt64() == 5999 &&
               string_member(run_info(*session), "status") == "finished";
    }, 20s));
    // The whole run's mean: without the catch-up it would be the mean since the restart only.
    EXPECT_NEAR(analytics(*session)["statistics"]["mean_loss"].GetDouble(), stored_mean_loss(*session, 6000), 1e-9);
}

}  // namespace
}  // namespace trainscope::test
