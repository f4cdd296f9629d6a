// The plugin host: keeps the loaded plugins (plugin_loader.hpp checks them), feeds each on a
// thread of its own (plugin_workers.cpp), serves their HTTP routes, and keeps the statistics
// they publish (host_services.hpp is what a plugin sees). Policy in
// agent/include/trainscope/plugin.hpp; how-to in plugins/README.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <trainscope/plugin.hpp>

#include "ingest/collector.hpp"
#include "plugins/plugin_source.hpp"
#include "store/types.hpp"

namespace Poco {
class Logger;
class SharedLibrary;
namespace Net {
class HTTPServerResponse;
}
}  // namespace Poco

namespace trainscope::agent {

/// Where plugin output goes; implemented by the agent's wiring (and by tests).
struct PluginSinks {
    /// A derived point for series (session, rank 0, name).
    std::function<void(const std::string& session, const std::string& name, std::int64_t step, double value)> point;
    /// A JSON message for browsers watching session.
    std::function<void(const std::string& session, const std::string& json)> broadcast;
    /// An event to keep with the run (alerts are kept as kind "alert").
    std::function<void(const std::string& session, const std::string& kind, const std::string& text)> event;
    /// Statistics a plugin published for a run, to keep elsewhere too (a hub: PostgreSQL).
    std::function<void(const std::string& plugin, const std::string& session, const std::string& json)> stats;
    /// The trainer processes of a live run on this host (null: none known).
    std::function<std::vector<plugin::RunProcess>(const std::string& session)> processes;
};

struct PluginHostOptions {
    std::string db_path;
    std::size_t max_queued_points = 1'000'000;   ///< per plugin; more is skipped and counted
    std::chrono::milliseconds slow_call{2000};  ///< a call longer than this is logged
    std::chrono::milliseconds tick{1000};
    /// At start, each plugin is first fed the stored points of the newest runs, up to this
    /// many points in all, so its statistics survive an agent restart (0: none).
    std::int64_t catch_up_points = 1'000'000;
    std::map<std::string, plugin::Settings> settings;  ///< per plugin name, from --plugin-option
    /// Reads runs, points and statistics from here instead of the SQLite at db_path (a hub).
    std::shared_ptr<PluginSource> source;
    /// Plugins that are not loaded here, by name, each with the reason /api/plugins gives
    /// (a hub leaves out the plugins that measure the machine they run on).
    std::map<std::string, std::string> not_here;
};

/// A loaded (or refused) plugin, for logs, /api/plugins and tests.
struct PluginStatus {
    std::string name;
    std::string path;
    std::string state;   ///< "enabled", "disabled" (failed at run time), "refused" (not loaded),
                         ///< "not_here" (left to node agents: PluginHostOptions::not_here)
    std::string reason;  ///< why it is not enabled
    std::uint64_t batches = 0;
    std::uint64_t skipped_batches = 0;
};

class PluginHost : public CollectorListener {
public:
    PluginHost(PluginSinks sinks, PluginHostOptions options, Poco::Logger& log);
    ~PluginHost() override;

    /// Loads every *.so in dir (sorted by name). A missing dir loads nothing.
    /// Not thread-safe: handle_http() and status() read the plugin list without a lock, so
    /// load and load_dir are called before the HTTP server starts (main.cpp does).
    void load_dir(const std::string& dir);
    /// Loads one library; returns its status (refused ones are kept for /api/plugins, with
    /// one log line each). Only a regular file (not a symlink) owned by the agent's effective
    /// user or root and not group/world-writable is loaded (plugin_file.hpp).
    PluginStatus load(const std::string& path);

    void start();
    void stop();

    void on_points(const std::vector<SeriesUpdate>& updates) override;
    void on_run_event(const std::string& kind, const std::string& session_id) override;

    /// A path a plugin serves: "api/plugins/<name>/**" for each, and the routes it declares.
    struct Route {
        std::string plugin;
        std::string pattern;
    };
    std::vector<Route> routes() const;
    /// Lets `plugin` answer a request on one of its routes; false if it declined (and sent nothing).
    bool handle_http(const std::string& plugin, const std::vector<std::string>& segments,
                     const std::map<std::string, std::string>& query,
                     Poco::Net::HTTPServerResponse& response);

    std::vector<PluginStatus> status() const;
    /// {"<plugin>": {stats...}, ...} for a run: the latest statistics each plugin published.
    std::string analytics_json(const std::string& session_id) const;

    struct Loaded;

private:
    friend class HostServices;
    void worker(Loaded& p);
    void catch_up(Loaded& p);
    void catch_up_from_source(Loaded& p);
    void disable(Loaded& p, const std::string& why);
    void store_stats(const std::string& plugin, const std::string& session, const std::string& json);

    PluginSinks sinks_;
    PluginHostOptions options_;
    Poco::Logger& log_;
    std::vector<std::unique_ptr<Loaded>> plugins_;
    std::vector<PluginStatus> refused_;
    mutable std::mutex stats_mutex_;
    std::map<std::string, std::map<std::string, std::string>> stats_;  ///< session -> plugin -> json
    std::atomic<bool> stopping_{false};
    bool started_ = false;

    /// A run whose stored points plugins are fed at start: every point with seq <= last_seq.
    struct CatchUp {
        std::string session_id;
        std::int64_t last_seq = 0;
        bool ended = false;
    };
    std::vector<CatchUp> catch_up_;  ///< oldest first; fixed once start() returned
};

}  // namespace trainscope::agent
