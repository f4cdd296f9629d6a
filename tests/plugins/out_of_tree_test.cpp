// An out-of-tree plugin (examples/plugin-out-of-tree, built as its own CMake project by the
// plugins.out_of_tree_build fixture) loaded by a real agent: it sees a real trainer's
// points, publishes statistics and a derived series, and serves its own route.
#include <gtest/gtest.h>

#include "plugin_agent_fixture.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using OutOfTreePluginTest = PluginAgentTest;

TEST_F(OutOfTreePluginTest, LoadsSeesPointsPublishesAndServesItsRoute) {
    start_agent(TS_OOT_DIR);
    std::string session = run_producer({"--loss_only", "--steps", "300"});
    ASSERT_FALSE(session.empty());

    auto plugins = parse_json(http_get(port_, "/api/plugins").body);
    ASSERT_TRUE(plugins.IsObject());
    bool enabled = false;
    for (const auto& p : plugins["plugins"].GetArray())
        enabled |= string_member(p, "name") == "loss_watch" && string_member(p, "state") == "enabled";
    EXPECT_TRUE(enabled);

    HttpResponse hello = http_get(port_, "/api/plugins/loss_watch/hello");
    EXPECT_EQ(hello.status, 200);
    EXPECT_NE(hello.body.find("from loss_watch"), std::string::npos);

    std::string analytics;
    EXPECT_TRUE(wait_until([&] {
        analytics = http_get(port_, "/api/runs/" + session + "/analytics").body;
        return analytics.find("\"points\":300") != std::string::npos;
    })) << analytics;
    EXPECT_TRUE(wait_until([&] {
        return http_get(port_, "/api/runs/" + session + "/metrics/" + url_encode("loss_watch/count")).status == 200;
    }));
    EXPECT_EQ(http_get(port_, "/api/plugins/loss_watch/nothing").status, 404);
}

TEST_F(OutOfTreePluginTest, SettingsComeFromTheCommandLine) {
    start_agent(TS_OOT_DIR, {"--plugin-option=loss_watch.metric=val/loss"});
    std::string session = run_producer({"--loss_only", "--steps", "300"});
    std::string analytics;
    // val/loss is logged every 100 steps: 3 points.
    EXPECT_TRUE(wait_until([&] {
        analytics = http_get(port_, "/api/runs/" + session + "/analytics").body;
        return analytics.find("\"points\":3,") != std::string::npos;
    })) << analytics;
}

TEST_F(OutOfTreePluginTest, AgentRunsOnAmongBadPlugins) {
    // Throwing, slow, wrong-ABI, wrong-size, entry-less and not-a-library plugins.
    start_agent(TS_FIXTURE_DIR);
    std::string session = run_producer({"--loss_only", "--steps", "500"});
    ASSERT_FALSE(session.empty());
    EXPECT_TRUE(wait_until([&] {
        auto run = parse_json(http_get(port_, "/api/runs/" + session).body);
        return run.IsObject() && string_member(run, "status") == "finished" && run["points"].GetInt64() == 505;
    }));
    EXPECT_EQ(http_get(port_, "/healthz").status, 200);
    EXPECT_TRUE(agent_->running());
    EXPECT_EQ(agent_->stderr_lines().empty(), false);
}

}  // namespace
}  // namespace trainscope::test
