// The system plugin in a real agent with real trainer processes: the trainer's CPU and RSS
// become series (RSS as /proc shows the trainer, summed over two ranks of one run); with the
// stand-in NVML both GPUs' series carry its figures; without NVML one log line and statistics
// that say no GPU; a run whose trainer died is no longer sampled.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "plugin_agent_fixture.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

/// VmRSS of a process in bytes (/proc/<pid>/status).
double vm_rss(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024;
    return 0;
}

class SystemPluginTest : public PluginAgentTest {
protected:
    void start_with_nvml(const std::string& library) {
        start_agent(TS_PLUGIN_DIR, {"--plugin-option=system.enabled=true",
                                    "--plugin-option=system.nvml_library=" + library});
    }

    /// A trainer that logs a few points and stays alive until finish() (or the test ends).
    std::unique_ptr<ChildProcess> start_trainer(ChildProcess::Env env = {}, bool crash = false) {
        env["TRAINSCOPE_NAMESPACE"] = ns_.name();
        env["TRAINSCOPE_AUTOSTART"] = "0";
        std::vector<std::string> args = {"--loss_only", "--steps", "10", "--finish_when",
                                         finish_path()};
        if (crash) args.push_back("--crash");
        auto trainer = std::make_unique<ChildProcess>(TS_PRODUCER_BIN, args, env);
        session_ = trainer->wait_stdout_prefix("session ").value_or("");
        EXPECT_FALSE(session_.empty());
        return trainer;
    }
    std::string finish_path() const { return dir_.path() + "/finish"; }
    void finish() { std::ofstream(finish_path()) << "go"; }

    /// Values of a stored series of the run, in order (empty if none yet).
    std::vector<double> values(const std::string& metric) {
        auto res = http_get(port_, "/api/runs/" + session_ + "/metrics/" + url_encode(metric) +
                                       "?max_points=100000");
        std::vector<double> out;
        if (res.status != 200) return out;
        auto doc = parse_json(res.body);
        if (!doc.IsObject() || !doc.HasMember("points")) return out;
        for (const auto& p : doc["points"].GetArray()) out.push_back(p[2].GetDouble());
        return out;
    }

    /// The system plugin's statistics for the run (null if it published none).
    rapidjson::Document stats() {
        auto doc = parse_json(http_get(port_, "/api/runs/" + session_ + "/analytics").body);
        rapidjson::Document out;
        if (doc.IsObject() && doc.HasMember("stats") && doc["stats"].HasMember("system"))
            out.CopyFrom(doc["stats"]["system"], out.GetAllocator());
        return out;
    }

    std::vector<std::string> metrics() {
        auto doc = parse_json(http_get(port_, "/api/runs/" + session_).body);
        std::vector<std::string> out;
        if (doc.IsObject() && doc.HasMember("metrics"))
            for (const auto& m : doc["metrics"].GetArray()) out.push_back(m.GetString());
        return out;
    }

    std::string session_;
};

TEST_F(SystemPluginTest, TrainerCpuAndRssBecomeSeries) {
    start_with_nvml("/nonexistent/libnvidia-ml.so.1");
    auto trainer = start_trainer();
    ASSERT_TRUE(wait_until(
        [&] {
            return values("system/cpu_percent").size() >= 2 &&
                   values("system/rss_bytes").size() >= 2;
        },
        15s));
    // The RSS stored is the trainer's as /proc shows it (the trainer idles: it barely moves).
    double rss = values("system/rss_bytes").back();
    double expected = vm_rss(trainer->pid());
    ASSERT_GT(expected, 0);
    EXPECT_NEAR(rss, expected, 0.2 * expected);
    for (double cpu : values("system/cpu_percent")) {
        EXPECT_GE(cpu, 0.0);
        EXPECT_LT(cpu, 100.0 * std::thread::hardware_concurrency() + 10);
    }
    auto host_cpu = values("system/host_cpu_percent");
    ASSERT_FALSE(host_cpu.empty());
    EXPECT_LE(host_cpu.back(), 100.0);
    auto mem = values("system/host_mem_percent");
    ASSERT_FALSE(mem.empty());
    EXPECT_GT(mem.back(), 0.0);
    EXPECT_LT(mem.back(), 100.0);
    finish();
}

TEST_F(SystemPluginTest, RssIsSummedOverTheRanksOfARun) {
    start_with_nvml("/nonexistent/libnvidia-ml.so.1");
    ChildProcess::Env env = {{"TRAINSCOPE_RUN_ID", "system-two-ranks"}};
    env["RANK"] = "0";
    auto rank0 = start_trainer(env);
    env["RANK"] = "1";
    auto rank1 = start_trainer(env);
    ASSERT_TRUE(wait_until(
        [&] {
            auto s = stats();
            return s.IsObject() && s.HasMember("processes") && s["processes"].GetInt() == 2;
        },
        15s))
        << "the plugin never saw both ranks";
    // Wait for a sample taken after both were seen.
    std::size_t n = values("system/rss_bytes").size();
    ASSERT_TRUE(wait_until([&] { return values("system/rss_bytes").size() >= n + 2; }, 10s));
    double expected = vm_rss(rank0->pid()) + vm_rss(rank1->pid());
    EXPECT_NEAR(values("system/rss_bytes").back(), expected, 0.2 * expected);
    finish();
}

TEST_F(SystemPluginTest, StandInGpusCarryItsFigures) {
    start_with_nvml(TS_NVML_STAND_IN);
    auto trainer = start_trainer();
    ASSERT_TRUE(wait_until([&] { return !values("system/gpu1/power_w").empty(); }, 15s));
    auto s = stats();
    ASSERT_TRUE(s.IsObject());
    EXPECT_TRUE(s["gpu_found"].GetBool());
    EXPECT_EQ(s["gpu_count"].GetInt(), 2);
    const double gib = 1024.0 * 1024.0 * 1024.0;
    EXPECT_EQ(values("system/gpu0/util_percent").back(), 37);
    EXPECT_EQ(values("system/gpu1/util_percent").back(), 41);
    EXPECT_EQ(values("system/gpu0/mem_used_bytes").back(), 5 * gib);
    EXPECT_EQ(values("system/gpu1/mem_used_bytes").back(), 6 * gib);
    EXPECT_EQ(values("system/gpu0/mem_total_bytes").back(), 16 * gib);
    EXPECT_EQ(values("system/gpu1/mem_total_bytes").back(), 24 * gib);
    EXPECT_EQ(values("system/gpu0/temperature_c").back(), 61);
    EXPECT_EQ(values("system/gpu1/temperature_c").back(), 62);
    EXPECT_DOUBLE_EQ(values("system/gpu0/power_w").back(), 123.456);
    EXPECT_DOUBLE_EQ(values("system/gpu1/power_w").back(), 124.456);
    for (const std::string& m : metrics())
        EXPECT_EQ(m.rfind("system/gpu2", 0), std::string::npos) << m;
    finish();
}

TEST_F(SystemPluginTest, WithoutNvmlOneLogLineAndNoGpuSeries) {
    start_with_nvml("/nonexistent/libnvidia-ml.so.1");
    auto trainer = start_trainer();
    ASSERT_TRUE(wait_until(
        [&] {
            auto s = stats();
            return s.IsObject() && s.HasMember("gpu_found");
        },
        15s));
    auto s = stats();
    EXPECT_FALSE(s["gpu_found"].GetBool());
    EXPECT_EQ(s["gpu_count"].GetInt(), 0);
    EXPECT_NE(string_member(s, "gpu_note").find("cannot load /nonexistent/libnvidia-ml.so.1"),
              std::string::npos);
    ASSERT_TRUE(wait_until([&] { return values("system/rss_bytes").size() >= 3; }, 10s));
    for (const std::string& m : metrics())
        EXPECT_EQ(m.rfind("system/gpu", 0), std::string::npos) << m;
    int lines = 0;
    for (const std::string& line : agent_->stderr_lines())
        if (line.find("plugin system: no GPU found") != std::string::npos) ++lines;
    EXPECT_EQ(lines, 1) << "one log line, not one per sample";
    finish();
}

TEST_F(SystemPluginTest, ADeadTrainersRunIsNoLongerSampled) {
    start_with_nvml("/nonexistent/libnvidia-ml.so.1");
    auto trainer = start_trainer({}, /*crash=*/true);
    ASSERT_TRUE(wait_until([&] { return values("system/rss_bytes").size() >= 2; }, 15s));
    finish();  // the trainer exits without finishing its run: crashed
    trainer->wait_exit(10s);
    ASSERT_TRUE(wait_until(
        [&] {
            auto run = parse_json(http_get(port_, "/api/runs/" + session_).body);
            return string_member(run, "status") == "crashed";
        },
        15s));
    // Let a sample that was in flight when it died land, then nothing more may come.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    std::size_t after_end = values("system/rss_bytes").size();
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // three more ticks
    EXPECT_EQ(values("system/rss_bytes").size(), after_end);
}

// The default library name, as a user's agent loads it. On an NVIDIA machine (the driver's
// libnvidia-ml.so.1 loads here too) the real GPUs' series appear (or, with no usable device,
// the note names the NVML step that failed); elsewhere the statistics say there is no GPU,
// naming the library that was not found.
TEST_F(SystemPluginTest, DefaultNvmlFollowsTheMachine) {
    void* real = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (real) ::dlclose(real);
    start_agent(TS_PLUGIN_DIR, {"--plugin-option=system.enabled=true"});
    auto trainer = start_trainer();
    ASSERT_TRUE(wait_until(
        [&] {
            auto s = stats();
            return s.IsObject() && s.HasMember("gpu_found");
        },
        15s));
    auto s = stats();
    if (real && s["gpu_found"].GetBool()) {
        EXPECT_GE(s["gpu_count"].GetInt(), 1);
        ASSERT_TRUE(
            wait_until([&] { return !values("system/gpu0/mem_total_bytes").empty(); }, 10s));
        EXPECT_GT(values("system/gpu0/mem_total_bytes").back(), 0);
    } else if (real) {
        // The library loads but NVML found no usable device (a driver without a GPU, a
        // container without the device files): the note says which step failed.
        EXPECT_EQ(string_member(s, "gpu_note").find("cannot load"), std::string::npos)
            << string_member(s, "gpu_note");
    } else {
        EXPECT_FALSE(s["gpu_found"].GetBool());
        EXPECT_NE(string_member(s, "gpu_note").find("cannot load libnvidia-ml.so.1"),
                  std::string::npos)
            << string_member(s, "gpu_note");
    }
    finish();
}

TEST_F(SystemPluginTest, SwitchedOffItSamplesNothing) {
    start_agent(TS_PLUGIN_DIR, {"--plugin-option=system.enabled=false"});
    auto trainer = start_trainer();
    // Other plugins tick meanwhile: once the statistics plugin has published, ticks ran.
    ASSERT_TRUE(wait_until(
        [&] {
            auto doc = parse_json(http_get(port_, "/api/runs/" + session_ + "/analytics").body);
            return doc.IsObject() && doc.HasMember("stats") && doc["stats"].HasMember("statistics");
        },
        15s));
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // three more ticks
    for (const std::string& m : metrics()) EXPECT_EQ(m.rfind("system/", 0), std::string::npos) << m;
    EXPECT_FALSE(stats().IsObject());
    int lines = 0;
    for (const std::string& line : agent_->stderr_lines())
        if (line.find("plugin system: sampling is off") != std::string::npos) ++lines;
    EXPECT_EQ(lines, 1);
    finish();
}

}  // namespace
}  // namespace trainscope::test
