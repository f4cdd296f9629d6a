// A run's trainer processes on this host, summed: CPU use since the last reading and resident
// memory. Keeps each process's previous CPU time, keyed by (pid, start time) so a reused pid is
// a new process, never a continuation of the old one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <trainscope/plugin.hpp>

namespace trainscope::plugins::system {

struct RunSample {
    std::size_t processes = 0;    ///< processes read (alive, start time matching)
    std::uint64_t rss_bytes = 0;  ///< summed over them
    /// CPU time per wall time since the previous reading, summed over them, in percent of one
    /// core (a process busy on 3 cores reads 300). nullopt until every process read has a
    /// previous reading.
    std::optional<double> cpu_percent;
    /// Unix seconds at which the earliest of them started; nullopt if unknown.
    std::optional<double> started_unix_s;
};

class ProcessTracker {
public:
    /// Reads every process now; `now_s` is a steady clock in seconds (CPU rates use it).
    RunSample sample(const std::vector<plugin::RunProcess>& processes, double now_s);

private:
    struct Previous {
        std::uint64_t cpu_ticks;
        double t_s;
    };
    std::map<std::pair<std::int64_t, std::uint64_t>, Previous> previous_;
};

}  // namespace trainscope::plugins::system
