// Plugins on the hub (docs/postgres.md, "Plugins on the hub"). Every hub loads the plugins
// (their HTTP routes, e.g. the export, answer from PostgreSQL on any hub), but one hub at a
// time feeds them points: the one holding a PostgreSQL advisory lock on its own connection.
// When that hub dies its connection goes, PostgreSQL releases the lock, and another hub takes
// it within about a second.
//
// The hub that runs the plugins:
//  * on taking the lock the first time, starts the plugin host, which catches the plugins up
//    on the stored points of the newest runs (PgPluginSource), then feeds them each shipped
//    batch's new rows, as a node agent feeds its plugins each commit;
//  * writes what they publish into PostgreSQL: derived series and alerts are shipped like a
//    node's batch (write_batch, ledger and NOTIFY) as agent kHubPluginsAgent, so every hub's
//    live listener pushes them and every hub's reader serves them; statistics go into
//    trainscope.plugin_stats. A derived point at a step its series already holds, and an
//    alert already stored, are dropped: a hub that takes over never stores one twice.
// Every hub LISTENs on kHubPluginsChannel and pushes the statistics and alerts it hears of to
// its own WebSocket clients.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "hub/pg_plugin_source.hpp"
#include "plugins/plugin_host.hpp"

namespace Poco {
class Logger;
}

namespace trainscope::agent {

class PgConnection;
class WebSocketHub;

/// The agent id the hub's derived series and alerts are shipped under.
inline constexpr const char* kHubPluginsAgent = "hub-plugins";
/// The host those series name.
inline constexpr const char* kHubPluginsHost = "hub";
/// NOTIFY channel: a run's statistics changed, or an alert was raised (payload below).
inline constexpr const char* kHubPluginsChannel = "trainscope_plugins";
/// pg_try_advisory_lock key the hub that runs the plugins holds.
inline constexpr std::int64_t kHubPluginsLock = 7070717;

class HubPlugins {
public:
    HubPlugins(std::string conninfo, PgPluginSource& source, WebSocketHub& ws, Poco::Logger& log);
    ~HubPlugins();
    HubPlugins(const HubPlugins&) = delete;
    HubPlugins& operator=(const HubPlugins&) = delete;

    /// Where the plugin host's output goes: queued here and written while this hub leads.
    PluginSinks sinks();
    void start(PluginHost& plugins);
    void stop();

    /// Whether this hub holds the lock and runs the plugins now.
    bool leading() const { return leading_; }

private:
    struct Derived {
        std::string session, name;
        std::int64_t step;
        double value;
        std::int64_t t_us;
    };
    struct Alert {
        std::string session, json;
    };

    void run();
    void serve(PgConnection& pg);
    bool try_lead(PgConnection& pg);
    /// Reads what PostgreSQL holds of kHubPluginsAgent: batches, seqs, steps, alerts.
    void load_writer_state(PgConnection& pg);
    /// Feeds the plugins every (run, node)'s points shipped past what they were fed.
    void feed_new(PgConnection& pg, const std::string& agent_id);
    void flush(PgConnection& pg);
    void write_derived(PgConnection& pg, std::vector<Derived> points, std::vector<Alert> alerts);
    void write_stats(PgConnection& pg, const std::map<std::pair<std::string, std::string>, std::string>& stats);
    void on_notice(PgConnection& pg, const std::string& payload);

    std::string conninfo_;
    PgPluginSource& source_;
    WebSocketHub& ws_;
    Poco::Logger& log_;
    PluginHost* plugins_ = nullptr;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> leading_{false};
    std::thread thread_;

    std::mutex queue_mutex_;  ///< guards the three queues (plugin threads fill them)
    std::vector<Derived> derived_;
    std::vector<Alert> alerts_;
    std::map<std::pair<std::string, std::string>, std::string> stats_;  ///< (session, plugin) -> json

    // Only the thread touches what follows.
    bool plugins_started_ = false;
    AgentSeqs fed_;                       ///< (run, node) -> seq fed to the plugins
    std::map<std::string, bool> running_;  ///< run -> any node still running, as last fed
    std::int64_t next_batch_ = 1;
    std::int64_t next_event_ = 1;
    std::map<std::string, std::int64_t> run_seq_;  ///< run -> kHubPluginsAgent's shipped seq
    std::map<std::pair<std::string, std::string>, std::int64_t> series_id_;  ///< (run, name) -> id
    std::map<std::int64_t, std::int64_t> max_step_;  ///< series id -> highest step stored
    std::set<std::tuple<std::string, std::string, std::string, std::string, std::int64_t>> alerts_stored_;
};

}  // namespace trainscope::agent
