// What a plugin sees of the agent (plugin::Host): publishing points, statistics and alerts
// into the agent's sinks, and reading a run's config, status and stored points.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include <trainscope/plugin.hpp>

namespace trainscope::agent {

class PluginHost;

/// One per plugin: knows which plugin it serves, so what the plugin publishes is named after it.
class HostServices : public plugin::Host {
public:
    HostServices(PluginHost& host, std::string name) : host_(host), name_(std::move(name)) {}

    /// While the plugin catches up on stored points, what it derives from them is stored
    /// already (derived points, alerts): only its statistics are kept.
    std::atomic<bool> catching_up{false};

    void publish_point(std::string_view session, std::string_view name, std::int64_t step, double value) override;
    void publish_stats(std::string_view session, std::string json) override;
    void raise_alert(std::string_view session, const plugin::Alert& a) override;
    std::string run_config(std::string_view session) override;
    std::string run_status(std::string_view session) override;
    bool for_each_point(std::string_view session,
                        const std::function<void(std::string_view, int, const plugin::Point&)>& fn) override;
    void log(std::string_view level, std::string_view message) override;
    std::vector<plugin::RunProcess> run_processes(std::string_view session) override;
    std::string run_info(std::string_view session) override;

    /// True on a thread answering a plugin's HTTP route (PluginHost::handle_http): there a
    /// store that cannot be read is the request's error, not a plugin's.
    static thread_local bool serving_http;

private:
    /// Runs a read of the host's PluginSource. On a plugin's own thread a failure (PostgreSQL
    /// away on a hub) is logged and `fallback` returned: a plugin must not be disabled for
    /// the store's outage. On an HTTP thread it propagates, so the request fails saying why.
    template <typename T, typename Read>
    T from_source(const char* what, T fallback, Read read);

    PluginHost& host_;
    std::string name_;
    std::chrono::steady_clock::time_point last_source_error_{};
};

}  // namespace trainscope::agent
