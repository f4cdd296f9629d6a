// trainscope-stat: what the segments of a namespace hold right now, like Aeron's aeron-stat.
//
//   trainscope-stat [--namespace NS] [--watch]
//
// Reads each /dev/shm/<ns>.* segment with the agent's own SegmentReader and prints its run,
// producer, lanes (write/read positions and fill), drops and metric names, or why the agent
// would refuse it; then the agent that holds the namespace lock. It only reads: it never
// calls release(), release_events() or beat(), so a run looks the same to the agent and the
// trainer after it as before. Exit 1 when there is neither a segment nor an agent.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <trainscope/detail/namespace_dir.hpp>
#include <trainscope/detail/process.hpp>

#include "ingest/segment_reader.hpp"

namespace {

using trainscope::agent::SegmentReader;
namespace detail = trainscope::detail;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

/// The /dev/shm names of namespace ns, sorted; a longer namespace's ("<ns>.sub.<pid>.<n>")
/// are not ours to show.
std::vector<std::string> segment_names(const std::string& ns) {
    std::vector<std::string> names;
    const std::string prefix = detail::segment_prefix(ns);
    DIR* dir = ::opendir("/dev/shm");
    if (!dir) return names;
    while (dirent* e = ::readdir(dir)) {
        std::string name = e->d_name;
        if (name.compare(0, prefix.size(), prefix) == 0 && !detail::of_longer_namespace(name, ns))
            names.push_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

/// The agent URL without its query: the token must never reach a terminal or a log.
std::string without_token(const std::string& url) {
    return url.substr(0, url.find('?'));
}

/// A metric name cut to `max` characters so one long name does not swamp the listing.
std::string shortened(const std::string& name, std::size_t max = 32) {
    return name.size() <= max ? name : name.substr(0, max - 3) + "...";
}

void print_segment(const SegmentReader& r) {
    const auto& id = r.identity();
    const long pid = static_cast<long>(id.producer_pid);
    const bool alive = detail::process_alive(pid, id.producer_start);
    std::printf("segment %s\n", r.name().c_str());
    std::printf("  run \"%s\" session %s rank %d\n", r.run_name().c_str(), r.session_id().c_str(),
                static_cast<int>(id.rank));
    std::printf("  pid %ld %s, layout version %u\n", pid, alive ? "alive" : "dead",
                id.version.load(std::memory_order_acquire));
    for (std::uint32_t lane = 0; lane < r.lane_count(); ++lane) {
        const std::uint64_t write = r.write_pos(lane), read = r.read_pos(lane);
        const std::uint64_t used = write >= read ? write - read : 0;
        std::printf("  lane %u: write %llu read %llu fill %llu/%u (%.1f%%)\n", lane,
                    static_cast<unsigned long long>(write), static_cast<unsigned long long>(read),
                    static_cast<unsigned long long>(used), id.slot_count,
                    100.0 * static_cast<double>(used) / id.slot_count);
    }
    std::printf("  dropped %llu\n", static_cast<unsigned long long>(r.dropped()));
    const std::uint32_t metrics = r.metric_count();
    std::string names;
    for (std::uint32_t m = 0; m < metrics; ++m) names += (m ? ", " : "") + shortened(r.metric_name(m));
    std::printf("  metrics %u%s%s\n", metrics, metrics ? ": " : "", names.c_str());
    std::printf("  state %s\n", r.failed() ? "failed" : r.finished() ? "finished" : "running");
    if (std::string damage = r.damage(); !damage.empty())
        std::printf("  damaged: %s\n", damage.c_str());
}

/// One report of the namespace; false when it has neither segments nor an agent.
bool print_report(const std::string& ns) {
    const std::vector<std::string> names = segment_names(ns);
    std::printf("namespace %s: %zu segment(s)\n", ns.c_str(), names.size());
    for (const std::string& name : names) {
        std::string why;
        bool not_ready = false;
        auto reader = SegmentReader::open(name, &why, &not_ready);
        if (reader)
            print_segment(*reader);
        else
            std::printf("segment %s\n  refused: %s\n", name.c_str(), why.c_str());
    }
    const detail::AgentFound agent = detail::find_agent(ns);
    if (agent.pid)
        std::printf("agent pid %ld url %s\n", agent.pid,
                    agent.url.empty() ? "(not written yet)" : without_token(agent.url).c_str());
    else
        std::printf("agent: none holds the lock of %s\n", ns.c_str());
    for (const auto& refusal : agent.refusals)
        std::printf("  skipped %s\n", refusal.text().c_str());
    std::fflush(stdout);
    return !names.empty() || agent.pid != 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string ns = detail::default_namespace();
    bool watch = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--namespace" && i + 1 < argc) ns = argv[++i];
        else if (arg.rfind("--namespace=", 0) == 0) ns = arg.substr(12);
        else if (arg == "--watch") watch = true;
        else {
            std::fprintf(stderr, "usage: trainscope-stat [--namespace NS] [--watch]\n");
            return 2;
        }
    }
    if (!watch) {
        if (print_report(ns)) return 0;
        std::fprintf(stderr, "trainscope-stat: namespace %s has no segments and no agent\n", ns.c_str());
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    while (!g_stop) {
        std::printf("\033[H\033[2J");  // redraw in place
        print_report(ns);
        for (int tick = 0; tick < 10 && !g_stop; ++tick)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return 0;
}
