#include "process_tracker.hpp"

#include "proc_stats.hpp"

namespace trainscope::plugins::system {

RunSample ProcessTracker::sample(const std::vector<plugin::RunProcess>& processes, double now_s) {
    RunSample out;
    std::map<std::pair<std::int64_t, std::uint64_t>, Previous> seen;
    double cpu_s_per_s = 0;
    bool every_rate_known = true;
    const double ticks = static_cast<double>(ticks_per_second());
    auto boot = boot_time_s();
    for (const plugin::RunProcess& p : processes) {
        auto stat = read_process(p.pid, p.start_time);
        if (!stat) continue;  // gone, or its pid belongs to another process now
        ++out.processes;
        out.rss_bytes += stat->rss_bytes;
        if (boot) {
            double started = static_cast<double>(*boot) + static_cast<double>(p.start_time) / ticks;
            if (!out.started_unix_s || started < *out.started_unix_s) out.started_unix_s = started;
        }
        auto key = std::make_pair(p.pid, p.start_time);
        auto prev = previous_.find(key);
        if (prev != previous_.end() && now_s > prev->second.t_s &&
            stat->cpu_ticks >= prev->second.cpu_ticks)
            cpu_s_per_s += static_cast<double>(stat->cpu_ticks - prev->second.cpu_ticks) / ticks /
                           (now_s - prev->second.t_s);
        else
            every_rate_known = false;
        seen[key] = Previous{stat->cpu_ticks, now_s};
    }
    previous_ = std::move(seen);  // processes gone are forgotten
    if (out.processes > 0 && every_rate_known) out.cpu_percent = 100.0 * cpu_s_per_s;
    return out;
}

}  // namespace trainscope::plugins::system
