// The plugin loader and host against good and bad libraries: a good plugin loads and works;
// a throwing one is disabled while the others keep working; a wrong ABI, a wrong descriptor
// size, a library without the entry point, a failing create() and a file that is not a
// library at all are each refused with one log line naming the file; a slow plugin has
// batches skipped instead of holding up the caller; a plugin file another user could have
// written (world- or group-writable, owned by someone else) or a symlink is refused.
#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include <filesystem>
#include <mutex>

#include <sys/stat.h>
#include <unistd.h>

#include "plugins/plugin_host.hpp"
#include "store/store.hpp"
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

    /// A copy of the velocity plugin in the test's directory with `mode`: a file the loader
    /// loads, unless what the test then does to it makes it refuse.
    std::string velocity_copy(const std::string& name, mode_t mode) {
        std::string path = dir_.path() + "/" + name;
        std::filesystem::copy_file(TS_VELOCITY_PLUGIN, path);
        EXPECT_EQ(::chmod(path.c_str(), mode), 0);
        return path;
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

// Velocity follows the lowest rank it has seen. When a lower rank shows up after a higher one
// (on a hub, another node's ranks may arrive first), it starts over on that rank: a window
// holding the other rank's steps would ignore the new rank's (lower) steps and report the
// other rank's rate.
TEST_F(PluginLoaderTest, VelocityStartsOverOnALowerRank) {
    auto host = make_host();
    ASSERT_EQ(host->load(TS_VELOCITY_PLUGIN).state, "enabled");
    host->start();
    SeriesUpdate rank2{"RUN1", 2, "train/loss", {}};
    for (int i = 0; i < 50; ++i) rank2.points.push_back(StoredPoint{i + 1, i, 1000.0 * i, 2.0});  // 1 step/s
    host->on_points({rank2});
    auto iters_per_s = [&]() -> double {
        std::string json = host->analytics_json("RUN1");
        std::size_t at = json.find("\"iters_per_s\":");
        return at == std::string::npos ? -1 : std::stod(json.substr(at + 14));
    };
    ASSERT_TRUE(wait_until([&] { return iters_per_s() == 1.0; })) << host->analytics_json("RUN1");
    SeriesUpdate rank0{"RUN1", 0, "train/loss", {}};
    for (int i = 0; i < 50; ++i) rank0.points.push_back(StoredPoint{100 + i, i, 100'000.0 + 10.0 * i, 2.0});  // 100 steps/s
    host->on_points({rank0});
    EXPECT_TRUE(wait_until([&] { return iters_per_s() == 100.0; })) << host->analytics_json("RUN1");
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
    ::testing::Values(Refusal{"wrong_abi", "ABI version 999, expected 2"},
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

struct Unsafe {
    const char* what;
    mode_t mode;
    const char* reason;
};

class UnsafePluginFileTest : public PluginLoaderTest, public ::testing::WithParamInterface<Unsafe> {};

TEST_P(UnsafePluginFileTest, IsRefusedWithItsReasonAndASafeCopyLoads) {
    auto host = make_host();
    std::string path = velocity_copy("unsafe.so", GetParam().mode);
    PluginStatus s = host->load(path);
    EXPECT_EQ(s.state, "refused");
    EXPECT_NE(s.reason.find(GetParam().reason), std::string::npos) << s.reason;
    EXPECT_EQ(channel_->naming(path).size(), 1u);
    EXPECT_EQ(status_of(*host, "").reason, s.reason) << "listed for /api/plugins";
    // The same library with a safe mode loads: the mode alone made the difference.
    EXPECT_EQ(host->load(velocity_copy("safe.so", 0644)).state, "enabled");
}

INSTANTIATE_TEST_SUITE_P(
    Modes, UnsafePluginFileTest,
    ::testing::Values(Unsafe{"world_writable", 0666, "world-writable (mode 0666)"},
                      Unsafe{"world_writable_only", 0757, "world-writable (mode 0757)"},
                      Unsafe{"group_writable", 0664, "group-writable (mode 0664)"},
                      Unsafe{"group_writable_executable", 0775, "group-writable (mode 0775)"}),
    [](const auto& info) { return std::string(info.param.what); });

TEST_F(PluginLoaderTest, SymlinkToAWorldWritablePluginIsRefused) {
    auto host = make_host();
    std::string target = velocity_copy("target.so", 0666);
    std::string link = dir_.path() + "/link.so";
    std::filesystem::create_symlink(target, link);
    PluginStatus s = host->load(link);
    EXPECT_EQ(s.state, "refused");
    EXPECT_NE(s.reason.find("a symbolic link"), std::string::npos) << s.reason;
    EXPECT_EQ(channel_->naming(link).size(), 1u);
}

TEST_F(PluginLoaderTest, SymlinkToASafePluginIsRefusedToo) {
    // Links are never followed (plugin_file.cpp says why): a copy is how a plugin is installed.
    auto host = make_host();
    std::string link = dir_.path() + "/link.so";
    std::filesystem::create_symlink(velocity_copy("target.so", 0644), link);
    PluginStatus s = host->load(link);
    EXPECT_EQ(s.state, "refused");
    EXPECT_NE(s.reason.find("a symbolic link"), std::string::npos) << s.reason;
}

TEST_F(PluginLoaderTest, PluginOwnedByAnotherUserIsRefused) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
    auto host = make_host();
    std::string path = velocity_copy("foreign.so", 0644);
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);  // nobody
    PluginStatus s = host->load(path);
    EXPECT_EQ(s.state, "refused");
    EXPECT_NE(s.reason.find("owned by uid 65534"), std::string::npos) << s.reason;
    EXPECT_EQ(channel_->naming(path).size(), 1u);
    // A root-owned plugin is trusted (as installed system-wide), whoever runs the agent.
    std::string system = velocity_copy("system.so", 0755);
    ASSERT_EQ(::chown(system.c_str(), 0, 0), 0);
    EXPECT_EQ(host->load(system).state, "enabled");
}

TEST_F(PluginLoaderTest, LoadDirRefusesUnsafeEntriesEachWithItsReasonAndLoadsTheRest) {
    std::string plugins = dir_.path() + "/plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(TS_VELOCITY_PLUGIN, plugins + "/velocity.so");
    std::filesystem::copy_file(fixture("throwing"), plugins + "/open.so");
    ASSERT_EQ(::chmod((plugins + "/open.so").c_str(), 0666), 0);
    std::filesystem::create_symlink(plugins + "/open.so", plugins + "/link.so");
    std::filesystem::create_symlink(plugins + "/gone", plugins + "/dangling.so");
    std::filesystem::create_directory(plugins + "/dir.so");
    auto host = make_host();
    host->load_dir(plugins);
    std::map<std::string, PluginStatus> by_file;
    for (const PluginStatus& s : host->status())
        by_file[std::filesystem::path(s.path).filename().string()] = s;
    EXPECT_EQ(by_file["velocity.so"].state, "enabled");
    EXPECT_NE(by_file["open.so"].reason.find("world-writable"), std::string::npos) << by_file["open.so"].reason;
    EXPECT_NE(by_file["link.so"].reason.find("a symbolic link"), std::string::npos);
    EXPECT_NE(by_file["dangling.so"].reason.find("a symbolic link"), std::string::npos);
    EXPECT_NE(by_file["dir.so"].reason.find("a directory"), std::string::npos);
    for (const char* f : {"open.so", "link.so", "dangling.so", "dir.so"}) {
        EXPECT_EQ(by_file[f].state, "refused") << f;
        EXPECT_EQ(channel_->naming(plugins + "/" + f).size(), 1u) << f;
    }
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
