// The plugin loader and host against good and bad libraries: a good plugin loads and works;
// a throwing one is disabled while the others keep working; a wrong ABI, a wrong descriptor
// size, a library without the entry point, a failing create() and a file that is not a
// library at all are each refused with one log line naming the file; a slow plugin has
// batches skipped instead of holding up the caller.
#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <mutex>

#include "plugin_host.hpp"
#include "store.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace trainscope::agent {
namespace {

using test::wait_until;
using namespace std::chrono_literals;

class CaptureChannel : public Poco::Channel {
public:
    void log(const Poco::Message& msg) override {
        std::lock_guard<std::mutex> lock(mutex);
        lines.push_back(msg.getText());
    }
    std::vector<std::string> naming(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex);
        std::vector<std::string> out;
        for (const auto& l : lines)
            if (l.find(text) != std::string::npos) out.push_back(l);
        return out;
    }
    std::mutex mutex;
    std::vector<std::string> lines;
};

std::string fixture(const std::string& name) { return std::string(TS_FIXTURE_DIR) + "/" + name + ".so"; }

class PluginLoaderTest : public ::testing::Test {
protected:
    PluginLoaderTest() : channel_(new CaptureChannel), store_(dir_.path() + "/trainscope.db") {
        log_ = &Poco::Logger::create("plugins-" + std::to_string(++counter_), channel_, Poco::Message::PRIO_DEBUG);
    }

    std::unique_ptr<PluginHost> make_host(std::size_t max_queued = 1'000'000) {
        PluginSinks sinks;
        sinks.point = [this](const std::string& session, const std::string& name, std::int64_t, double) {
            std::lock_guard<std::mutex> lock(mutex_);
            derived_.push_back(session + ":" + name);
        };
        PluginHostOptions options;
        options.db_path = dir_.path() + "/trainscope.db";
        options.max_queued_points = max_queued;
        options.tick = 50ms;
        return std::make_unique<PluginHost>(sinks, options, *log_);
    }

    static std::vector<SeriesUpdate> batch(std::int64_t first_step, int n) {
        SeriesUpdate u{"RUN1", 0, "train/loss", {}};
        for (int i = 0; i < n; ++i)
            u.points.push_back(StoredPoint{first_step + i + 1, first_step + i, 1000.0 * (first_step + i), 2.0});
        return {u};
    }

    PluginStatus status_of(PluginHost& host, const std::string& name) {
        for (const PluginStatus& s : host.status())
            if (s.name == name) return s;
        return {};
    }

    bool derived_seen(const std::string& what) {
        std::lock_guard<std::mutex> lock(mutex_);
        return std::find(derived_.begin(), derived_.end(), what) != derived_.end();
    }

    static inline int counter_ = 0;
    test::TempDir dir_;
    Poco::AutoPtr<CaptureChannel> channel_;
    Poco::Logger* log_;
    Store store_;  // creates the schema the host reads run configs from
    std::mutex mutex_;
    std::vector<std::string> derived_;
};

TEST_F(PluginLoaderTest, GoodPluginLoadsAndPublishes) {
    auto host = make_host();
    PluginStatus s = host->load(TS_VELOCITY_PLUGIN);
    EXPECT_EQ(s.state, "enabled") << s.reason;
    EXPECT_EQ(s.name, "velocity");
    host->start();
    host->on_points(batch(0, 50));
    EXPECT_TRUE(wait_until([&] { return derived_seen("RUN1:velocity/iters_per_s"); }));
    EXPECT_NE(host->analytics_json("RUN1").find("\"velocity\""), std::string::npos);
}

TEST_F(PluginLoaderTest, ThrowingPluginIsDisabledAndOthersKeepWorking) {
    auto host = make_host();
    ASSERT_EQ(host->load(fixture("throwing")).state, "enabled");
    ASSERT_EQ(host->load(TS_VELOCITY_PLUGIN).state, "enabled");
    host->start();
    host->on_points(batch(0, 10));
    ASSERT_TRUE(wait_until([&] { return status_of(*host, "throwing").state == "disabled"; }));
    EXPECT_NE(status_of(*host, "throwing").reason.find("boom from fixture"), std::string::npos);
    EXPECT_EQ(channel_->naming("plugin throwing disabled").size(), 1u);
    host->on_points(batch(10, 10));
    host->on_points(batch(20, 10));
    EXPECT_TRUE(wait_until([&] { return status_of(*host, "velocity").batches == 3; }));
    EXPECT_EQ(status_of(*host, "velocity").state, "enabled");
}

struct Refusal {
    const char* file;
    const char* reason;
};

class RefusedPluginTest : public PluginLoaderTest, public ::testing::WithParamInterface<Refusal> {};

TEST_P(RefusedPluginTest, IsRefusedWithOneLogLineNamingIt) {
    auto host = make_host();
    std::string path = fixture(GetParam().file);
    PluginStatus s = host->load(path);
    EXPECT_EQ(s.state, "refused");
    EXPECT_NE(s.reason.find(GetParam().reason), std::string::npos) << s.reason;
    EXPECT_EQ(channel_->naming(path).size(), 1u);
    // The host still works: a good plugin loads after the refusal.
    EXPECT_EQ(host->load(TS_VELOCITY_PLUGIN).state, "enabled");
}

INSTANTIATE_TEST_SUITE_P(
    BadLibraries, RefusedPluginTest,
    ::testing::Values(Refusal{"wrong_abi", "ABI version 999, expected 1"},
                      Refusal{"wrong_size", "descriptor size"},
                      Refusal{"no_entry", "no trainscope_plugin_descriptor() entry point"},
                      Refusal{"not_a_library", "not a loadable library"},
                      Refusal{"failing_create", "create() threw: needs a GPU it does not have"}),
    [](const auto& info) { return std::string(info.param.file); });

TEST_F(PluginLoaderTest, SlowPluginHasBatchesSkippedNotWaitedFor) {
    auto host = make_host(10);  // room for two 5-point batches per plugin
    ASSERT_EQ(host->load(fixture("slow")).state, "enabled");
    ASSERT_EQ(host->load(TS_VELOCITY_PLUGIN).state, "enabled");
    host->start();
    for (int i = 0; i < 20; ++i) {
        host->on_points(batch(i * 5, 5));
        std::this_thread::sleep_for(5ms);  // let the fast plugin keep up
    }
    EXPECT_GT(status_of(*host, "slow").skipped_batches, 0u);
    EXPECT_TRUE(wait_until([&] { return status_of(*host, "velocity").batches == 20; }));
    EXPECT_EQ(status_of(*host, "velocity").skipped_batches, 0u);
}

TEST_F(PluginLoaderTest, LoadDirLoadsTheGoodAndRefusesTheBad) {
    auto host = make_host();
    host->load_dir(TS_FIXTURE_DIR);
    std::map<std::string, std::string> states;
    for (const PluginStatus& s : host->status()) states[s.path] = s.state;
    EXPECT_EQ(states[fixture("throwing")], "enabled");
    EXPECT_EQ(states[fixture("slow")], "enabled");
    EXPECT_EQ(states[fixture("wrong_abi")], "refused");
    EXPECT_EQ(states[fixture("not_a_library")], "refused");
}

TEST_F(PluginLoaderTest, UnknownSettingIsRefused) {
    PluginSinks sinks;
    PluginHostOptions options;
    options.db_path = dir_.path() + "/trainscope.db";
    options.settings["velocity"]["no_such_key"] = "1";
    PluginHost host(sinks, options, *log_);
    PluginStatus s = host.load(TS_VELOCITY_PLUGIN);
    EXPECT_EQ(s.state, "refused");
    EXPECT_NE(s.reason.find("unknown setting 'no_such_key'"), std::string::npos);
}

}  // namespace
}  // namespace trainscope::agent
