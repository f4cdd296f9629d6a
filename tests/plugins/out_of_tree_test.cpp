// An out-of-tree plugin (examples/plugin-out-of-tree, built as its own CMake project by the
// plugins.out_of_tree_build fixture) loaded by a real agent: it sees a real trainer's
// points, publishes statistics and a derived series, and serves its own route.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/process.hpp"
#include "support/shm_names.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

class OutOfTreePluginTest : public ::testing::Test {
protected:
    void start_agent(const std::string& plugins_dir, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"--port=0", "--namespace=" + ns_.name(), "--data-dir=" + dir_.path(),
                                         "--plugins-dir=" + plugins_dir};
        args.insert(args.end(), extra.begin(), extra.end());
        agent_ = std::make_unique<ChildProcess>(TS_AGENT_BIN, args);
        auto url = agent_->wait_stdout_prefix("trainscope-agent listening on http://127.0.0.1:");
        ASSERT_TRUE(url) << "agent did not start";
        port_ = static_cast<unsigned short>(std::stoi(*url));
    }

    std::string run_producer(const std::vector<std::string>& args) {
        ChildProcess producer(TS_PRODUCER_BIN, args,
                              {{"TRAINSCOPE_NAMESPACE", ns_.name()}, {"TRAINSCOPE_AUTOSTART", "0"}});
        auto session = producer.wait_stdout_prefix("session ");
        EXPECT_TRUE(producer.wait_stdout_prefix("done "));
        producer.wait_exit(10s);
        return session.value_or("");
    }

    ShmNamespace ns_;
    TempDir dir_;
    std::unique_ptr<ChildProcess> agent_;
    unsigned short port_ = 0;
};

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
