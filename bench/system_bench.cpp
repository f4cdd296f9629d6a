// What the system plugin's sampling costs the agent: one pass as the plugin makes it once a
// second (the host's CPU and memory, then each live run's trainer process read from /proc with
// its start time checked), with 8 live runs of one process each, against the floor of reading
// one small /proc file. At one pass a second, a pass's CPU time in ns / 1e7 is the share of
// one core in percent; the goal is <= 1 %.
//
// The trainers are real processes (forked here, paused, killed at exit). GPU reads are not
// in the pass: this machine has no GPU, and the tests' stand-in NVML would only time a few
// function calls; real NVML queries are the driver's cost, to be measured on an NVIDIA host.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.hpp"
#include "proc_stats.hpp"
#include "process_tracker.hpp"

namespace {

using namespace trainscope::plugins::system;
using trainscope::bench::result;

constexpr int kRuns = 8;

/// Start time (clock ticks since boot) of a process, read once at set-up.
std::uint64_t start_time_of(pid_t pid) {
    char path[64], buf[1024];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    int fd = ::open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : ::read(fd, buf, sizeof buf - 1);
    if (fd >= 0) ::close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');
    for (int field = 2; p && *p && field < 22; ++p)
        if (*p == ' ') ++field;
    return p ? std::strtoull(p, nullptr, 10) : 0;
}

struct Trainers {
    std::vector<pid_t> pids;
    std::vector<std::vector<trainscope::plugin::RunProcess>> runs;
    Trainers() {
        for (int i = 0; i < kRuns; ++i) {
            std::fflush(nullptr);
            pid_t pid = ::fork();
            if (pid == 0) {
                ::pause();
                ::_exit(0);
            }
            pids.push_back(pid);
        }
        for (pid_t pid : pids) runs.push_back({{pid, 0, start_time_of(pid)}});
    }
    ~Trainers() {
        for (pid_t pid : pids) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

Trainers* trainers = nullptr;

void BM_system_sample_pass(benchmark::State& state) {
    std::vector<ProcessTracker> trackers(kRuns);
    double now = 0;
    std::size_t read = 0;
    for (auto _ : state) {
        now += 1.0;
        auto cpu = read_host_cpu();
        auto mem = read_host_memory();
        benchmark::DoNotOptimize(cpu);
        benchmark::DoNotOptimize(mem);
        for (int i = 0; i < kRuns; ++i)
            read += trackers[i].sample(trainers->runs[i], now).processes;
    }
    if (read != static_cast<std::size_t>(kRuns) * state.iterations())
        state.SkipWithError("a trainer was not read");
}

void BM_read_one_proc_file(benchmark::State& state) {
    char buf[1024];
    for (auto _ : state) {
        int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        ssize_t n = ::read(fd, buf, sizeof buf);
        ::close(fd);
        benchmark::DoNotOptimize(n);
    }
}

void summary(const trainscope::bench::SummaryReporter& rep) {
    double pass = rep.cpu("BM_system_sample_pass"), floor = rep.cpu("BM_read_one_proc_file");
    std::printf("\nSummary: median CPU time of one system sampling pass (%d live runs), load %s\n",
                kRuns, trainscope::bench::load_average().c_str());
    if (pass <= 0 || floor <= 0) return;
    std::printf("  %-44s %10.1f us %10.1fx one /proc read\n", "one pass (host + 8 trainers)",
                pass / 1e3, pass / floor);
    std::printf("  %-44s %10.1f us\n", "one /proc/self/stat read (floor)", floor / 1e3);
    double share = pass / 1e9 * 100.0;  // one pass a second
    std::printf("Goal: sampling once a second costs <= 1 %% of a core: %.4f %% %s\n", share,
                share <= 1.0 ? "PASS" : "MISS");
    result("system_pass_us", pass / 1e3);
    result("system_core_pct", share);
    result("proc_read_us", floor / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
    Trainers t;
    trainers = &t;
    benchmark::RegisterBenchmark("BM_system_sample_pass", BM_system_sample_pass);
    benchmark::RegisterBenchmark("BM_read_one_proc_file", BM_read_one_proc_file);
    return trainscope::bench::run_main(
        argc, argv, {"--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true"},
        summary);
}
