// system: what the trainer costs the machine. Once a second, for each live run: its trainer
// processes' CPU and resident memory (summed over its ranks on this host, read from
// /proc/<pid> after checking the pid still names the same process), the host's CPU and memory
// use, and each NVIDIA GPU's utilisation, memory, temperature and power (NVML, loaded at run
// time; without it: one log line, and the statistics say gpu_found false).
//
// Output per run: derived series system/cpu_percent, system/rss_bytes, system/host_cpu_percent,
// system/host_mem_used_bytes, system/host_mem_percent, system/gpu<i>/{util_percent,
// mem_used_bytes, mem_total_bytes, temperature_c, power_w}; statistics {gpu_found, gpu_count,
// gpu_note, processes, host_mem_total_bytes, step_unit}.
//
// Step: whole seconds since the run's earliest trainer process on this host started (its
// start time in /proc). It grows by one per sample whatever the trainer does, so the series
// chart like any metric, and an agent restarted mid-run carries on from the same step.
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <trainscope/plugin.hpp>
#include <trainscope/plugin_json.hpp>

#include "gpu_sampler.hpp"
#include "plugin_support.hpp"
#include "proc_stats.hpp"
#include "process_tracker.hpp"
#include "settings.hpp"

namespace trainscope::plugins {
namespace {

using system::GpuSample;

class SystemPlugin : public plugin::Plugin {
public:
    SystemPlugin(plugin::Host& host, const plugin::Settings& settings) : host_(host) {
        std::string enabled = setting_text(settings, "enabled");
        if (enabled != "true" && enabled != "false")
            throw std::invalid_argument("setting enabled must be true or false, got '" + enabled +
                                        "'");
        enabled_ = enabled == "true";
        if (!enabled_) {
            host_.log("info", "sampling is off (system.enabled=false)");
            return;
        }
        std::string library = setting_text(settings, "nvml_library");
        std::string why;
        gpus_ = system::GpuSampler::open(library, &why);
        if (gpus_) {
            gpu_note_ = library;
            host_.log("info", std::to_string(gpus_->count()) + " GPU(s) found through " + library);
        } else {
            gpu_note_ = why;
            host_.log("info", "no GPU found: " + why);
        }
    }

    void on_run_event(std::string_view kind, std::string_view session) override {
        if (!enabled_) return;
        if (kind == "run_started")
            runs_.try_emplace(std::string(session));
        else
            runs_.erase(std::string(session));  // ended or deleted: nothing left to sample
    }

    void on_tick(double now_ms) override {
        if (runs_.empty()) return;
        double steady_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                .count();
        sample_host();
        std::vector<GpuSample> gpus = gpus_ ? gpus_->sample() : std::vector<GpuSample>{};
        for (auto& [session, run] : runs_) {
            system::RunSample s = run.tracker.sample(host_.run_processes(session), steady_s);
            if (s.processes == 0) continue;  // none alive (yet, or any more): nothing to say
            // The first reading only sets the CPU baseline: a run is charted once it has lived
            // through two samples, so a run over in a blink gets no system series at all.
            if (++run.samples < 2) continue;
            if (!run.first_seen_ms) run.first_seen_ms = now_ms;
            double since = s.started_unix_s ? now_ms / 1000.0 - *s.started_unix_s
                                            : (now_ms - run.first_seen_ms) / 1000.0;
            auto step = static_cast<std::int64_t>(std::floor(std::max(0.0, since)));
            publish(session, step, s, gpus);
            if (s.processes != run.published_processes) {
                run.published_processes = s.processes;
                publish_stats(session, s);
            }
        }
    }

private:
    struct Run {
        system::ProcessTracker tracker;
        double first_seen_ms = 0;
        int samples = 0;
        std::size_t published_processes = 0;
    };

    void sample_host() {
        host_cpu_percent_.reset();
        if (auto cpu = system::read_host_cpu()) {
            if (host_cpu_) host_cpu_percent_ = system::host_cpu_percent(*host_cpu_, *cpu);
            host_cpu_ = cpu;
        }
        host_memory_ = system::read_host_memory();
    }

    void publish(const std::string& session, std::int64_t step, const system::RunSample& s,
                 const std::vector<GpuSample>& gpus) {
        if (s.cpu_percent) host_.publish_point(session, "cpu_percent", step, *s.cpu_percent);
        host_.publish_point(session, "rss_bytes", step, static_cast<double>(s.rss_bytes));
        if (host_cpu_percent_)
            host_.publish_point(session, "host_cpu_percent", step, *host_cpu_percent_);
        if (host_memory_ && host_memory_->total_bytes > 0) {
            auto used =
                static_cast<double>(host_memory_->total_bytes - host_memory_->available_bytes);
            host_.publish_point(session, "host_mem_used_bytes", step, used);
            host_.publish_point(session, "host_mem_percent", step,
                                100.0 * used / static_cast<double>(host_memory_->total_bytes));
        }
        for (std::size_t i = 0; i < gpus.size(); ++i) {
            std::string gpu = "gpu" + std::to_string(i) + "/";
            auto put = [&](const char* name, const std::optional<double>& v) {
                if (v) host_.publish_point(session, gpu + name, step, *v);
            };
            put("util_percent", gpus[i].util_percent);
            put("mem_used_bytes", gpus[i].mem_used_bytes);
            put("mem_total_bytes", gpus[i].mem_total_bytes);
            put("temperature_c", gpus[i].temperature_c);
            put("power_w", gpus[i].power_w);
        }
    }

    void publish_stats(const std::string& session, const system::RunSample& s) {
        plugin::JsonObject stats;
        stats.boolean("gpu_found", gpus_ != nullptr)
            .integer("gpu_count", gpus_ ? static_cast<std::int64_t>(gpus_->count()) : 0)
            .text("gpu_note", gpu_note_)
            .integer("processes", static_cast<std::int64_t>(s.processes))
            .text("step_unit", "seconds since the trainer started");
        if (host_memory_)
            stats.number("host_mem_total_bytes", static_cast<double>(host_memory_->total_bytes));
        host_.publish_stats(session, stats.str());
    }

    plugin::Host& host_;
    bool enabled_ = true;
    std::unique_ptr<system::GpuSampler> gpus_;
    std::string gpu_note_;  ///< the library used, or why there is no GPU
    std::map<std::string, Run> runs_;
    std::optional<system::HostCpu> host_cpu_;
    std::optional<double> host_cpu_percent_;
    std::optional<system::HostMemory> host_memory_;
};

const plugin::Setting kSettings[] = {
    {"enabled", "bool", "true",
     "sample at all; the test harnesses of other parts turn it off, so their runs hold exactly "
     "the points their trainers logged"},
    {"nvml_library", "string", "libnvidia-ml.so.1",
     "NVIDIA's NVML library, as dlopen finds it (a name or a path); tests point it at a stand-in"},
};

const plugin::PluginDescriptor kDescriptor = {
    plugin::kAbiVersion,
    sizeof(plugin::PluginDescriptor),
    "system",
    "the trainer's CPU and memory, the host's, and each GPU's use, sampled once a second",
    "1.0",
    kSettings,
    sizeof kSettings / sizeof kSettings[0],
    nullptr,
    create_plugin<SystemPlugin>,
    destroy_plugin,
};

}  // namespace
}  // namespace trainscope::plugins

TRAINSCOPE_PLUGIN(trainscope::plugins::kDescriptor)
