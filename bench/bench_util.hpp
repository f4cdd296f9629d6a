// Shared plumbing for the benchmark programs: default flags, a reporter that keeps each
// benchmark's median so a program can print ratios measured in the same run, and a few
// helpers for private shared-memory segments.
//
// Every program prints Google Benchmark's usual table, then a short summary, then lines
//   RESULT <key> <value>
// that tools/bench collects into its final table.
#pragma once

#include <benchmark/benchmark.h>

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace trainscope::bench {

/// Console output as usual, plus the median (or, without repetitions, the last) run of each
/// benchmark, keyed by "<function name>[/<args>]" (+ "/threads:<n>" when n > 1).
class SummaryReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        benchmark::ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            if (r.error_occurred) continue;
            bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            bool plain = r.run_type == Run::RT_Iteration;
            if (!median && !plain) continue;
            std::string key = name_of(r);
            if (median || !medians_.count(key)) {
                kept_[key] = r;
                if (median) medians_[key] = true;
            }
        }
    }

    /// The kept run of a benchmark, or null if it did not run (filtered out or failed).
    const Run* find(const std::string& function, int threads = 1) const {
        std::string key = function + (threads > 1 ? "/threads:" + std::to_string(threads) : "");
        auto it = kept_.find(key);
        return it == kept_.end() ? nullptr : &it->second;
    }
    /// Median wall-clock time per iteration in the benchmark's time unit, or -1.
    double real(const std::string& function, int threads = 1) const {
        const Run* r = find(function, threads);
        return r ? r->GetAdjustedRealTime() : -1;
    }
    double cpu(const std::string& function, int threads = 1) const {
        const Run* r = find(function, threads);
        return r ? r->GetAdjustedCPUTime() : -1;
    }
    /// A user counter (already divided per its flags, e.g. a rate), or -1.
    double counter(const std::string& function, const std::string& name, int threads = 1) const {
        const Run* r = find(function, threads);
        if (!r) return -1;
        auto it = r->counters.find(name);
        return it == r->counters.end() ? -1 : static_cast<double>(it->second);
    }

private:
    static std::string name_of(const Run& r) {
        std::string key = r.run_name.function_name;
        if (!r.run_name.args.empty()) key += "/" + r.run_name.args;
        if (r.threads > 1) key += "/threads:" + std::to_string(r.threads);
        return key;
    }
    std::map<std::string, Run> kept_;
    std::map<std::string, bool> medians_;
};

/// Runs the registered benchmarks with `defaults` in front of the user's flags (a flag given
/// on the command line wins, as later flags overwrite earlier ones), then calls summary().
template <typename Summary>
int run_main(int argc, char** argv, std::vector<std::string> defaults, Summary summary) {
    std::vector<char*> args{argv[0]};
    for (std::string& d : defaults) args.push_back(d.data());
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    int n = static_cast<int>(args.size());
    args.push_back(nullptr);
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
    SummaryReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    std::fflush(stdout);
    summary(reporter);
    benchmark::Shutdown();
    return 0;
}

/// The 1-minute load average, as /proc/loadavg gives it ("?" if unreadable).
inline std::string load_average() {
    char buf[64] = "?";
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%63s", buf) != 1) buf[0] = '?', buf[1] = '\0';
        std::fclose(f);
    }
    return buf;
}

/// Prints one machine-readable line for tools/bench.
inline void result(const char* key, double value) {
    std::printf("RESULT %s %.6g\n", key, value);
}

/// A namespace no agent serves and no other process uses: "tsbench-<pid>-<tag>".
inline std::string private_namespace(const std::string& tag) {
    return "tsbench-" + std::to_string(::getpid()) + "-" + tag;
}

/// The one segment of namespace `ns` in /dev/shm ("<ns>.<pid>.<n>"), or "" if none.
inline std::string find_segment(const std::string& ns) {
    std::string prefix = ns + ".", found;
    if (DIR* dir = ::opendir("/dev/shm")) {
        while (dirent* e = ::readdir(dir)) {
            std::string name = e->d_name;
            if (name.compare(0, prefix.size(), prefix) == 0 && name != prefix + "agent")
                found = name;
        }
        ::closedir(dir);
    }
    return found;
}

/// The benchmarks drain their own segments: never spawn an agent that would drain them too.
inline void no_autostart() {
    ::setenv("TRAINSCOPE_AUTOSTART", "0", 1);
}

}  // namespace trainscope::bench
