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
//  * writes what they publish into PostgreSQL (plugin_output_writer.hpp): derived series and
//    alerts shipped like a node's batch as agent kHubPluginsAgent, statistics into
//    trainscope.plugin_stats; nothing twice, whichever hub wrote before.
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
#include "hub/plugin_output_writer.hpp"
#include "plugins/plugin_host.hpp"

namespace Poco {
class Logger;
}

namespace trainscope::agent {

class PgConnection;
class WebSocketHub;

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
    void run();
    void serve(PgConnection& pg);
    bool try_lead(PgConnection& pg);
    /// Feeds the plugins every (run, node)'s points shipped past what they were fed.
    void feed_new(PgConnection& pg, const std::string& agent_id);
    void flush(PgConnection& pg);
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
    std::vector<DerivedPoint> derived_;
    std::vector<RaisedAlert> alerts_;
    PluginStatsMap stats_;

    // Only the thread touches what follows.
    bool wants_lock_ = false;  ///< some plugin is enabled here; set before the thread starts
    bool plugins_started_ = false;
    AgentSeqs fed_;                       ///< (run, node) -> seq fed to the plugins
    std::map<std::string, bool> running_;  ///< run -> any node still running, as last fed
    PluginOutputWriter writer_;  ///< used while this hub leads
};

}  // namespace trainscope::agent
