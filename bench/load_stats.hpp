// What bench/load.cpp measures with: a latency histogram and the agent's CPU and memory
// from /proc.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

/// Milliseconds in 0.1 ms buckets up to 10 s (one more for anything later): fixed memory
/// however many millions of points are timed, quantiles exact to the bucket.
class LatencyHistogram {
public:
    static constexpr double kBucketMs = 0.1;
    static constexpr std::size_t kBuckets = 100'000;

    LatencyHistogram() : counts_(kBuckets + 1, 0) {}
    void add(double ms) {
        auto b = ms <= 0 ? 0 : static_cast<std::size_t>(ms / kBucketMs);
        ++counts_[std::min(b, kBuckets)];
        ++n_;
    }
    void merge(const LatencyHistogram& other) {
        for (std::size_t i = 0; i <= kBuckets; ++i) counts_[i] += other.counts_[i];
        n_ += other.n_;
    }
    std::uint64_t count() const { return n_; }
    /// The upper edge of the bucket holding quantile q; 0 when empty.
    double quantile(double q) const {
        if (n_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n_ - 1));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i <= kBuckets; ++i) {
            seen += counts_[i];
            if (seen > rank) return static_cast<double>(i + 1) * kBucketMs;
        }
        return static_cast<double>(kBuckets) * kBucketMs;
    }

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t n_ = 0;
};

inline std::string fmt_ms(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    return buf;
}

struct ProcessFigures {
    double cpu_percent = 0;        ///< of one core, from the first sample to the last
    std::uint64_t peak_rss_kb = 0;  ///< VmHWM
};

/// Samples a process's CPU time (/proc/<pid>/stat) and peak RSS (/proc/<pid>/status VmHWM).
class ProcessSampler {
public:
    explicit ProcessSampler(pid_t pid) : pid_(pid) {
        first_cpu_ = cpu_seconds();
        first_wall_ = std::chrono::steady_clock::now();
        sample();
    }
    void sample() {
        last_cpu_ = cpu_seconds();
        last_wall_ = std::chrono::steady_clock::now();
        std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("VmHWM:", 0) == 0) peak_kb_ = std::max<std::uint64_t>(peak_kb_, std::stoull(line.substr(6)));
    }
    ProcessFigures figures() const {
        double wall = std::chrono::duration<double>(last_wall_ - first_wall_).count();
        return {wall > 0 ? 100.0 * (last_cpu_ - first_cpu_) / wall : 0, peak_kb_};
    }

private:
    double cpu_seconds() const {
        std::ifstream f("/proc/" + std::to_string(pid_) + "/stat");
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        // Fields after the command name (which may hold spaces) start past the last ')'.
        std::istringstream rest(text.substr(text.rfind(')') + 2));
        std::string field;
        double utime = 0, stime = 0;
        for (int i = 3; rest >> field; ++i) {
            if (i == 14) utime = std::stod(field);
            if (i == 15) { stime = std::stod(field); break; }
        }
        return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }

    pid_t pid_;
    double first_cpu_ = 0, last_cpu_ = 0;
    std::chrono::steady_clock::time_point first_wall_, last_wall_;
    std::uint64_t peak_kb_ = 0;
};
