// Reading what Linux says about processes and the host (/proc), for the system plugin.
// Each call opens, reads and closes one small file: no state, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>

namespace trainscope::plugins::system {

/// One trainer process as /proc/<pid>/stat and statm show it.
struct ProcessStat {
    std::uint64_t cpu_ticks = 0;   ///< user + system time so far (fields 14 + 15), clock ticks
    std::uint64_t rss_bytes = 0;   ///< resident set (/proc/<pid>/statm, pages * page size)
    std::uint64_t start_time = 0;  ///< clock ticks since boot (field 22)
};

/// The process `pid`, if it exists, is not a zombie, and started at `start_time` (clock ticks
/// since boot). A reused pid (another process, another start time) gives nullopt: nothing of
/// a stranger is ever read as the trainer's.
std::optional<ProcessStat> read_process(std::int64_t pid, std::uint64_t start_time);

/// The host's CPU time so far, summed over all cores (first line of /proc/stat), clock ticks.
struct HostCpu {
    std::uint64_t busy = 0;  ///< everything but idle and iowait
    std::uint64_t total = 0;
};
std::optional<HostCpu> read_host_cpu();

/// Busy share of the host's CPU between two readings, 0..100; nullopt if no time passed.
std::optional<double> host_cpu_percent(const HostCpu& before, const HostCpu& after);

/// /proc/meminfo: MemTotal and MemAvailable, in bytes.
struct HostMemory {
    std::uint64_t total_bytes = 0;
    std::uint64_t available_bytes = 0;
};
std::optional<HostMemory> read_host_memory();

/// Unix seconds at which the host booted (btime in /proc/stat), read once.
std::optional<std::int64_t> boot_time_s();

/// Clock ticks per second (sysconf(_SC_CLK_TCK)).
long ticks_per_second();

}  // namespace trainscope::plugins::system
