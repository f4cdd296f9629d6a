// The system plugin's sampler against real processes and a real shared library: /proc reads
// refuse a pid whose start time does not match (a reused pid), a dead or zombie process,
// and sum a run's processes; NVML through the tests' stand-in library (two GPUs, fixed
// figures), and a missing or wrong library is "no GPU" with the reason.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "gpu_sampler.hpp"
#include "proc_stats.hpp"
#include "process_tracker.hpp"

namespace trainscope::plugins::system {
namespace {

/// Field 22 of /proc/<pid>/stat, read independently of the code under test.
std::uint64_t start_time_of(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::size_t p = text.rfind(')');
    std::size_t at = p + 2;  // field 3
    for (int field = 3; field < 22; ++field) at = text.find(' ', at) + 1;
    return std::stoull(text.substr(at));
}

/// VmRSS of a process in bytes, from /proc/<pid>/status.
std::uint64_t vm_rss(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

/// A child that sleeps until killed; killed and reaped by the destructor.
struct SleepingChild {
    pid_t pid;
    SleepingChild() {
        std::fflush(nullptr);
        pid = ::fork();
        if (pid == 0) {
            ::pause();
            ::_exit(0);
        }
    }
    ~SleepingChild() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

TEST(SystemSampler, ReadsAProcessOnlyWhenItsStartTimeMatches) {
    pid_t self = ::getpid();
    std::uint64_t start = start_time_of(self);
    auto stat = read_process(self, start);
    ASSERT_TRUE(stat);
    EXPECT_EQ(stat->start_time, start);
    EXPECT_GT(stat->rss_bytes, 0u);
    // The same pid with another start time is another process (the pid was reused): refused.
    EXPECT_FALSE(read_process(self, start + 1));
    EXPECT_FALSE(read_process(self, start - 1));
}

TEST(SystemSampler, RefusesAZombieAndAReapedProcess) {
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    std::uint64_t start = 0;
    // Wait until it is a zombie (exited, not reaped): /proc still lists it.
    for (int i = 0; i < 500; ++i) {
        std::ifstream f("/proc/" + std::to_string(child) + "/stat");
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::size_t p = text.rfind(')');
        if (p != std::string::npos && text[p + 2] == 'Z') {
            start = start_time_of(child);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_NE(start, 0u) << "the child never showed as a zombie";
    EXPECT_FALSE(read_process(child, start));
    ::waitpid(child, nullptr, 0);
    EXPECT_FALSE(read_process(child, start));
}

TEST(SystemSampler, TrackerSumsLiveProcessesAndSkipsAReusedPid) {
    SleepingChild a, b;
    std::vector<plugin::RunProcess> processes = {
        {a.pid, 0, start_time_of(a.pid)},
        {b.pid, 1, start_time_of(b.pid)},
        {::getpid(), 2, start_time_of(::getpid()) + 7},  // a stale entry: this pid, another start
    };
    // Let both children reach pause(): a process still faulting in pages after fork() has an
    // RSS that moves between two reads.
    auto sleeping = [](pid_t pid) {
        std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::size_t p = text.rfind(')');
        return p != std::string::npos && text[p + 2] == 'S';
    };
    for (int i = 0; i < 500 && !(sleeping(a.pid) && sleeping(b.pid)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ProcessTracker tracker;
    RunSample first = tracker.sample(processes, 100.0);
    EXPECT_EQ(first.processes, 2u);
    EXPECT_FALSE(first.cpu_percent) << "no rate before a second reading";
    std::uint64_t expected = vm_rss(a.pid) + vm_rss(b.pid);
    EXPECT_NEAR(static_cast<double>(first.rss_bytes), static_cast<double>(expected),
                0.1 * static_cast<double>(expected));
    ASSERT_TRUE(first.started_unix_s);
    EXPECT_NEAR(*first.started_unix_s, static_cast<double>(std::time(nullptr)), 60.0);

    RunSample second = tracker.sample(processes, 101.0);
    ASSERT_TRUE(second.cpu_percent);
    EXPECT_GE(*second.cpu_percent, 0.0);
    EXPECT_LT(*second.cpu_percent, 5.0) << "two paused processes use (almost) no CPU";
}

TEST(SystemSampler, CpuPercentIsTheProcessCpuTimeOverWallTime) {
    // This process spins between two readings. Its CPU share must equal its own CPU clock's
    // advance over the wall time passed to the tracker, to within /proc's tick resolution,
    // however loaded the machine is.
    std::vector<plugin::RunProcess> processes = {{::getpid(), 0, start_time_of(::getpid())}};
    ProcessTracker tracker;
    auto steady = [] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    };
    auto cpu_s = [] {
        timespec ts{};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    };
    double cpu0 = cpu_s(), t0 = steady();
    tracker.sample(processes, t0);
    auto start = std::clock();
    volatile double sink = 0;
    while (std::clock() - start < CLOCKS_PER_SEC / 2)
        sink = sink + 1.0;  // 0.5 s of this process's CPU
    double t1 = steady();
    RunSample s = tracker.sample(processes, t1);
    double cpu1 = cpu_s();
    ASSERT_TRUE(s.cpu_percent);
    double wall = t1 - t0;
    double expected = 100.0 * (cpu1 - cpu0) / wall;
    double tick = 1.0 / static_cast<double>(ticks_per_second());
    EXPECT_NEAR(*s.cpu_percent, expected, 100.0 * 3 * tick / wall + 1.0) << "wall " << wall << " s";
    EXPECT_GT(*s.cpu_percent, 0.0);
}

TEST(SystemSampler, HostCpuAndMemoryAreRead) {
    auto before = read_host_cpu();
    ASSERT_TRUE(before);
    auto start = std::clock();
    volatile double sink = 0;
    while (std::clock() - start < CLOCKS_PER_SEC / 10) sink = sink + 1.0;
    auto after = read_host_cpu();
    ASSERT_TRUE(after);
    auto pct = host_cpu_percent(*before, *after);
    ASSERT_TRUE(pct);
    EXPECT_GT(*pct, 0.0);
    EXPECT_LE(*pct, 100.0);
    auto mem = read_host_memory();
    ASSERT_TRUE(mem);
    EXPECT_GT(mem->total_bytes, mem->available_bytes);
    EXPECT_EQ(mem->total_bytes, static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                    static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
}

TEST(SystemSampler, StandInNvmlGivesTwoGpusWithItsFigures) {
    std::string why;
    auto gpus = GpuSampler::open(TS_NVML_STAND_IN, &why);
    ASSERT_TRUE(gpus) << why;
    ASSERT_EQ(gpus->count(), 2u);
    auto s = gpus->sample();
    ASSERT_EQ(s.size(), 2u);
    const double gib = 1024.0 * 1024.0 * 1024.0;
    EXPECT_EQ(*s[0].util_percent, 37);
    EXPECT_EQ(*s[1].util_percent, 41);
    EXPECT_EQ(*s[0].mem_used_bytes, 5 * gib);
    EXPECT_EQ(*s[1].mem_total_bytes, 24 * gib);
    EXPECT_EQ(*s[0].temperature_c, 61);
    EXPECT_EQ(*s[1].temperature_c, 62);
    EXPECT_DOUBLE_EQ(*s[0].power_w, 123.456);
    EXPECT_DOUBLE_EQ(*s[1].power_w, 124.456);
}

TEST(SystemSampler, MissingOrForeignLibraryMeansNoGpuWithTheReason) {
    std::string why;
    EXPECT_FALSE(GpuSampler::open("/nonexistent/libnvidia-ml.so.1", &why));
    EXPECT_NE(why.find("cannot load /nonexistent/libnvidia-ml.so.1"), std::string::npos) << why;
    why.clear();
    EXPECT_FALSE(GpuSampler::open("libc.so.6", &why));  // loads, but is not NVML
    EXPECT_NE(why.find("has no nvmlInit_v2"), std::string::npos) << why;
}

}  // namespace
}  // namespace trainscope::plugins::system
