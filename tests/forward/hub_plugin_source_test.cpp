// Plugins on a hub read PostgreSQL through the host (PgPluginSource). When PostgreSQL is away
// a plugin's read answers "unknown" with a log line, and the plugin stays enabled: trend asks
// a quiet run's status on its tick (is it stalled?), which would otherwise throw out of its
// callback and disable it for the rest of the hub's life after any outage of stall_s.
#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <trainscope/detail/clock.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "hub/pg_plugin_source.hpp"
#include "plugins/plugin_host.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

using namespace std::chrono_literals;

class LinesChannel : public Poco::Channel {
public:
    void log(const Poco::Message& msg) override {
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back(msg.getText());
    }
    bool has(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const std::string& l : lines_)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }

private:
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

TEST(HubPluginSource, PostgresAwayDisablesNoPlugin) {
    TempDir nowhere{"tsnopg"};  // a socket directory no PostgreSQL listens in
    Poco::AutoPtr<LinesChannel> lines(new LinesChannel);
    Poco::Logger& log = Poco::Logger::create("hub-source-test", lines, Poco::Message::PRIO_INFORMATION);
    agent::PluginHostOptions options;
    options.source = std::make_shared<agent::PgPluginSource>("host=" + nowhere.path() + " dbname=postgres user=postgres");
    options.tick = 50ms;
    options.settings["trend"]["stall_s"] = "0.1";
    agent::PluginHost host(agent::PluginSinks{}, options, log);
    ASSERT_EQ(host.load(std::string(TS_PLUGIN_DIR) + "/trend.so").state, "enabled");
    host.start();
    // A loss point from 10 s ago: on its next tick trend finds the run quiet and asks its status.
    double then_ms = static_cast<double>(detail::now_unix_ns()) / 1e6 - 10'000;
    host.on_points({agent::SeriesUpdate{"RUN1", 0, "train/loss", {agent::StoredPoint{1, 1, then_ms, 1.0}}}});
    EXPECT_TRUE(wait_until([&] { return lines->has("plugin trend: run_status failed (answered as unknown)"); }, 10s));
    EXPECT_FALSE(lines->has("plugin trend disabled"));
    for (const agent::PluginStatus& s : host.status())
        if (s.name == "trend") {
            EXPECT_EQ(s.state, "enabled") << s.reason;
        }
    host.stop();
}

}  // namespace
}  // namespace trainscope::test
