// Plugins on the hub: two node agents (each running its own plugins for its own page) ship a
// 2-node x 2-rank run to one PostgreSQL; two hubs serve it, one running the plugins over the
// shipped points. The hub running them is SIGKILLed mid-run and the other takes over, while a
// second run sits idle (all its points logged and derived, its trainer not finished yet), so
// the new hub derives at steps the old one had derived already. Then:
//  * node agents shipped none of their own plugins' output (it stays on each node);
//  * each derived value equals what the velocity plugin computes over the shipped points up
//    to its step of the lowest rank it had seen (the second node's rank 2 runs first), and no
//    step of a derived series is stored twice;
//  * a browser on the hub not running the plugins hears their statistics live;
//  * the NaN alert of a rank on the second node is stored once, by the hub;
//  * a third hub that never ran the plugins answers the same analytics and events, lists the
//    plugins, and its CSV and JSON exports hold every point PostgreSQL holds of the run.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../../plugins/common/rolling_rate.hpp"
#include "forward/node_agent.hpp"
#include "forward/pg_connection.hpp"
#include "support/agent_token.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

using agent::PgConnection;
using agent::PgResult;

constexpr long kSteps = 6'000;  // at 400 steps/s: 15 s of training
const std::string kTakeoverLine = "hub plugins: this hub runs the plugins now";

/// trainscope-agent --hub with the built plugins, on the test's PostgreSQL.
struct PluginHub {
    explicit PluginHub(const std::string& conninfo, const std::string& plugins_dir = TS_PLUGIN_DIR)
        : process(TS_AGENT_BIN, {"--hub", "--port=0", "--postgres=" + conninfo, "--token=" + test_token(),
                                 "--plugins-dir=" + plugins_dir}) {
        auto rest = process.wait_stdout_prefix("trainscope-agent listening on http://127.0.0.1:", 20s);
        if (rest) port = static_cast<unsigned short>(std::stoi(*rest));
    }
    bool leads(std::chrono::milliseconds within) {
        return process.wait_stderr([](const std::string& l) { return l.find(kTakeoverLine) != std::string::npos; },
                                   within)
            .has_value();
    }
    ChildProcess process;
    unsigned short port = 0;
};

std::int64_t count(PgConnection& pg, const std::string& sql, const std::string& run) {
    return pg.exec(sql, {run}).int64(0, 0);
}

TEST(HubPlugins, DeriveOnceOverEveryNodeAndSurviveATakeover) {
    PostgresServer postgres;
    const std::vector<std::string> node_args{std::string("--plugins-dir=") + TS_PLUGIN_DIR,
                                             "--plugin-option=system.enabled=false"};
    NodeAgent a("node-a", postgres.conninfo()), b("node-b", postgres.conninfo());
    ASSERT_TRUE(a.start(node_args));
    ASSERT_TRUE(b.start(node_args));
    PluginHub first(postgres.conninfo());
    ASSERT_NE(first.port, 0);
    ASSERT_TRUE(first.leads(20s)) << "the first hub never took the plugins' lock";
    PluginHub second(postgres.conninfo());
    ASSERT_NE(second.port, 0);

    const std::string run_id = "hubplug-" + std::to_string(::getpid());
    auto trainer = [&](NodeAgent& node, int rank, std::vector<std::string> extra) -> ChildProcess& {
        std::vector<std::string> args{"--name", "plugged", "--loss_only", "--steps", std::to_string(kSteps),
                                      "--rate", "400", "--config", R"({"max_iters":6000})"};
        args.insert(args.end(), extra.begin(), extra.end());
        return node.start_trainer(run_id, rank, args);
    };
    // The second node's ranks first: velocity follows the lowest rank, so when rank 0 shows
    // up it must drop what it measured on rank 2 (a hub sees nodes in any order).
    std::vector<ChildProcess*> trainers{&trainer(b, 2, {"--nan_at", "4000"}), &trainer(b, 3, {})};
    ASSERT_TRUE(wait_until([&] {
        return http_get(first.port, "/api/runs/" + run_id + "/metrics/train%2Floss?rank=2&last=1").status == 200;
    }, 20s)) << "rank 2 never reached the hub";
    trainers.push_back(&trainer(a, 0, {}));
    trainers.push_back(&trainer(a, 1, {}));
    // The idle run: 1,500 steps, then 25 s of nothing before it finishes.
    const std::string idle_id = "hubidle-" + std::to_string(::getpid());
    trainers.push_back(&b.start_trainer(idle_id, 0, {"--name", "idle", "--loss_only", "--steps", "1500", "--rate",
                                                     "500", "--hold_ms", "25000"}));

    // The first hub derives for a while, then dies without a word; the second takes over.
    PgConnection pg(postgres.conninfo());
    const std::string derived_sql =
        "SELECT count(*) FROM trainscope.series s JOIN trainscope.points p ON p.series_id = s.id "
        "WHERE s.session_id = $1 AND s.name = 'velocity/iters_per_s'";
    const std::string last_step_sql =
        "SELECT COALESCE(max(p.step), -1) FROM trainscope.series s JOIN trainscope.points p ON p.series_id = s.id "
        "WHERE s.session_id = $1 AND s.name = 'velocity/iters_per_s'";
    ASSERT_TRUE(wait_until([&] { return count(pg, derived_sql, run_id) >= 3; }, 20s))
        << "the first hub derived nothing";
    ASSERT_TRUE(wait_until([&] { return count(pg, last_step_sql, idle_id) == 1499; }, 20s))
        << "the first hub never derived the idle run's last step";
    {
        // A browser on the hub that does not run the plugins hears their statistics live.
        WsClient ws(second.port);
        ws.send_text(R"({"type":"subscribe","session_id":")" + run_id + "\"}");
        EXPECT_TRUE(wait_until([&] {
            auto text = ws.receive_text(1s);
            if (!text) return false;
            rapidjson::Document m = parse_json(*text);
            return m.IsObject() && string_member(m, "type") == "analytics" && string_member(m, "plugin") == "velocity" &&
                   m["stats"].IsObject() && m["stats"].HasMember("iters_per_s");
        }, 20s, 0ms)) << "no analytics pushed by the second hub";
    }
    first.process.signal(SIGKILL);
    first.process.wait_exit(10s);
    std::int64_t derived_at_kill = count(pg, derived_sql, run_id);
    std::int64_t idle_at_kill = count(pg, derived_sql, idle_id);
    EXPECT_TRUE(second.leads(20s)) << "the second hub never took over";

    for (ChildProcess* t : trainers) ASSERT_TRUE(t->wait_stdout_prefix("done ", 60s));
    PluginHub third(postgres.conninfo());
    ASSERT_NE(third.port, 0);
    // The run ends on the hub, and velocity's last derived point reaches the last step.
    ASSERT_TRUE(wait_until([&] { return count(pg, last_step_sql, run_id) == kSteps - 1; }, 30s))
        << "velocity on the hub never reached the last step; it is at " << count(pg, last_step_sql, run_id);
    EXPECT_GT(count(pg, derived_sql, run_id), derived_at_kill) << "nothing derived after the takeover";

    // Node agents keep their own plugins' output: derived series exist on the node ...
    EXPECT_EQ(http_get(a.port(), "/api/runs/" + run_id + "/metrics/velocity%2Fiters_per_s?last=1").status, 200);
    // ... and none of it was shipped: every derived series and alert is the hub's.
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.series WHERE session_id = $1 AND name LIKE '%/%' "
                        "AND name NOT LIKE 'train/%' AND name NOT LIKE 'val/%' AND agent_id <> 'hub-plugins'",
                    run_id),
              0);
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.events WHERE session_id = $1 AND kind = 'alert' "
                        "AND agent_id <> 'hub-plugins'",
                    run_id),
              0);

    // The idle run gained nothing: its every step was derived before the takeover.
    ASSERT_TRUE(wait_until([&] {
        return string_member(parse_json(http_get(third.port, "/api/runs/" + idle_id).body), "status") == "finished";
    }, 30s));
    EXPECT_EQ(count(pg, derived_sql, idle_id), idle_at_kill);

    // Nothing derived twice: one point per step in each derived series, one series per name.
    for (const std::string& id : {run_id, idle_id}) {
        SCOPED_TRACE(id);
        PgResult dup = pg.exec(
            "SELECT s.name, count(*), count(DISTINCT p.step), count(DISTINCT s.id) FROM trainscope.series s "
            "JOIN trainscope.points p ON p.series_id = s.id WHERE s.session_id = $1 AND s.agent_id = 'hub-plugins' "
            "GROUP BY s.name",
            {id});
        ASSERT_GT(dup.rows(), 0);
        for (int i = 0; i < dup.rows(); ++i) {
            EXPECT_EQ(dup.int64(i, 1), dup.int64(i, 2)) << dup.text(i, 0) << ": a step derived twice";
            EXPECT_EQ(dup.int64(i, 3), 1) << dup.text(i, 0);
        }
    }

    // Each derived value is the plugin's rolling rate over the shipped points up to its step of
    // the lowest rank it had seen: rank 2 until rank 0 showed up (a prefix, maybe empty), then
    // rank 0 alone (never a window mixing the two).
    auto rank_steps = [&](int rank) {
        return pg.exec("SELECT p.step, p.t_us FROM trainscope.series s JOIN trainscope.points p ON p.series_id = s.id "
                       "WHERE s.session_id = $1 AND s.name = 'train/loss' AND s.rank = $2 ORDER BY p.seq",
                       {run_id, std::to_string(rank)});
    };
    PgResult loss0 = rank_steps(0), loss2 = rank_steps(2);
    ASSERT_EQ(loss0.rows(), kSteps);
    ASSERT_EQ(loss2.rows(), kSteps);
    PgResult derived = pg.exec(
        "SELECT p.step, p.value FROM trainscope.series s JOIN trainscope.points p ON p.series_id = s.id "
        "WHERE s.session_id = $1 AND s.name = 'velocity/iters_per_s' ORDER BY p.seq",
        {run_id});
    struct Follow {
        const PgResult& loss;
        plugins::RollingRate rate{10.0};  // velocity's default window_s
        int next = 0;
        std::optional<double> at(std::int64_t step) {
            for (; next < loss.rows() && loss.int64(next, 0) <= step; ++next)
                rate.add(loss.int64(next, 0), static_cast<double>(loss.int64(next, 1)) / 1000.0);
            return rate.steps_per_second();
        }
    } rank0{loss0}, rank2{loss2};
    auto same = [](double a, std::optional<double> b) { return b && std::fabs(a - *b) <= 1e-12 * std::fabs(*b); };
    bool following_rank0 = false;
    int from_rank0 = 0;
    std::int64_t previous_step = -1;
    for (int i = 0; i < derived.rows(); ++i) {
        std::int64_t step = derived.int64(i, 0);
        double value = std::stod(derived.text(i, 1));
        EXPECT_GT(step, previous_step) << "derived steps go back";
        previous_step = step;
        std::optional<double> want0 = rank0.at(step), want2 = rank2.at(step);
        // At 400 steps/s both ranks often run at exactly the same rate: such a point fits both.
        bool fits0 = same(value, want0), fits2 = same(value, want2);
        if (fits0) {
            ++from_rank0;
            following_rank0 = following_rank0 || !fits2;
            continue;
        }
        EXPECT_TRUE(fits2 && !following_rank0)
            << "velocity/iters_per_s at step " << step << " is " << value << "; over rank 0 it is "
            << want0.value_or(-1) << ", over rank 2 " << want2.value_or(-1)
            << (fits2 ? " (but velocity followed rank 0 already)" : "");
    }
    EXPECT_GE(from_rank0, 3) << "velocity hardly followed rank 0";

    // The NaN of rank 2 (on node-b) raised one alert, by the hub, listed with the run's events.
    EXPECT_EQ(count(pg, "SELECT count(*) FROM trainscope.events WHERE session_id = $1 AND kind = 'alert' "
                        "AND text LIKE '%\"kind\":\"nan\"%'",
                    run_id),
              1);

    rapidjson::Document events = parse_json(http_get(third.port, "/api/runs/" + run_id + "/events").body);
    ASSERT_TRUE(events.IsObject());
    int nan_alerts = 0;
    for (const auto& e : events["events"].GetArray())
        if (string_member(e, "kind") == "alert" && string_member(e, "text").find("\"kind\":\"nan\"") != std::string::npos)
            ++nan_alerts;
    EXPECT_EQ(nan_alerts, 1);

    // Every hub serves the same analytics, the ones the hub running the plugins published.
    std::string analytics;
    ASSERT_TRUE(wait_until([&] {
        rapidjson::Document d = parse_json(http_get(third.port, "/api/runs/" + run_id + "/analytics").body);
        if (!d.IsObject() || !d["stats"].HasMember("statistics") || !d["stats"].HasMember("velocity")) return false;
        analytics = http_get(third.port, "/api/runs/" + run_id + "/analytics").body;
        return d["stats"]["velocity"]["step"].GetInt64() == kSteps - 1;
    }, 20s)) << "the third hub's analytics: " << analytics;
    EXPECT_EQ(http_get(second.port, "/api/runs/" + run_id + "/analytics").body, analytics);
    rapidjson::Document stats = parse_json(analytics);
    EXPECT_EQ(stats["stats"]["statistics"]["step"].GetInt64(), kSteps - 1) << analytics;

    // The plugins are listed on a hub that never ran them; system stays on the nodes.
    rapidjson::Document plugins = parse_json(http_get(third.port, "/api/plugins").body);
    std::map<std::string, std::string> states;
    for (const auto& p : plugins["plugins"].GetArray()) states[string_member(p, "name")] = string_member(p, "state");
    EXPECT_EQ(states["velocity"], "enabled");
    EXPECT_EQ(states["export"], "enabled");
    EXPECT_EQ(states["system"], "not_here");

    // The export on a hub holds every point PostgreSQL holds of the run, trainers' and derived.
    HttpResponse csv = http_get(third.port, "/api/runs/" + run_id + "/export.csv");
    ASSERT_EQ(csv.status, 200);
    std::istringstream lines(csv.body);
    std::string line;
    std::int64_t rows = 0, loss_rows = 0;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
        ++rows;
        if (line.find(",train/loss,") != std::string::npos) ++loss_rows;
    }
    EXPECT_EQ(rows, count(pg, "SELECT count(*) FROM trainscope.series s JOIN trainscope.points p ON p.series_id = s.id "
                              "WHERE s.session_id = $1",
                          run_id));
    EXPECT_EQ(loss_rows, 4 * kSteps);
    // The JSON export too, with the run's description.
    HttpResponse json = http_get(third.port, "/api/runs/" + run_id + "/export.json");
    ASSERT_EQ(json.status, 200);
    rapidjson::Document exported = parse_json(json.body);
    ASSERT_TRUE(exported.IsObject() && exported["series"].IsArray());
    EXPECT_EQ(string_member(exported["run"], "name"), "plugged");
    std::int64_t json_points = 0;
    for (const auto& series : exported["series"].GetArray()) json_points += series["points"].Size();
    EXPECT_EQ(json_points, rows);
}

// PostgreSQL restarts under the hub running the plugins: the lock goes with its connection,
// the hub takes it again when PostgreSQL is back, goes on feeding its plugins from where it
// stopped (they stay enabled), and derives the run to its end with no step twice.
TEST(HubPlugins, PostgresRestartKeepsThePluginsRunning) {
    PostgresServer postgres;
    NodeAgent node("node-a", postgres.conninfo());
    ASSERT_TRUE(node.start());
    PluginHub hub(postgres.conninfo());
    ASSERT_NE(hub.port, 0);
    ASSERT_TRUE(hub.leads(20s));
    const std::string run_id = "hubplugpg-" + std::to_string(::getpid());
    constexpr long steps = 6'000;
    ChildProcess& trainer = node.start_trainer(
        run_id, 0, {"--name", "restart", "--loss_only", "--steps", std::to_string(steps), "--rate", "400"});
    const std::string derived_sql =
        "SELECT count(*), count(DISTINCT p.step), COALESCE(max(p.step), -1) FROM trainscope.series s "
        "JOIN trainscope.points p ON p.series_id = s.id WHERE s.session_id = $1 AND s.name = 'velocity/iters_per_s'";
    {
        PgConnection pg(postgres.conninfo());
        ASSERT_TRUE(wait_until([&] { return pg.exec(derived_sql, {run_id}).int64(0, 0) >= 3; }, 20s));
    }
    postgres.stop();
    std::this_thread::sleep_for(3s);  // an outage, not a measurement
    postgres.start();
    auto takeovers = [&] {
        int n = 0;
        for (const std::string& line : hub.process.stderr_lines()) n += line.find(kTakeoverLine) != std::string::npos;
        return n;
    };
    EXPECT_TRUE(wait_until([&] { return takeovers() == 2; }, 30s)) << "the hub never took the lock again";
    ASSERT_TRUE(trainer.wait_stdout_prefix("done ", 60s));
    PgConnection pg(postgres.conninfo());
    EXPECT_TRUE(wait_until([&] { return pg.exec(derived_sql, {run_id}).int64(0, 2) == steps - 1; }, 30s))
        << "velocity stopped at step " << pg.exec(derived_sql, {run_id}).int64(0, 2);
    PgResult derived = pg.exec(derived_sql, {run_id});
    EXPECT_EQ(derived.int64(0, 0), derived.int64(0, 1)) << "a step derived twice";
    rapidjson::Document plugins = parse_json(http_get(hub.port, "/api/plugins").body);
    for (const auto& p : plugins["plugins"].GetArray())
        if (string_member(p, "name") != "system") {
            EXPECT_EQ(string_member(p, "state"), "enabled") << string_member(p, "name");
        }
}

// A hub without plugins never takes the lock: the hub that has them runs them.
TEST(HubPlugins, AHubWithoutPluginsLeavesThemToOneWithThem) {
    PostgresServer postgres;
    PluginHub bare(postgres.conninfo(), "");
    ASSERT_NE(bare.port, 0);
    PluginHub full(postgres.conninfo());
    ASSERT_NE(full.port, 0);
    EXPECT_TRUE(full.leads(20s)) << "the hub with plugins never ran them";
    EXPECT_FALSE(bare.leads(0ms));
}

}  // namespace
}  // namespace trainscope::test
