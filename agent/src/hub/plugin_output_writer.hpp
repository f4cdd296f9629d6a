// What the plugins of the hub that runs them publish, written into PostgreSQL so every hub
// serves it (docs/postgres.md, "Plugins on the hub"):
//  * derived points and alerts as one batch of the "node" kHubPluginsAgent (write_batch:
//    ledger row, COPY, latest, one NOTIFY trainscope_points), so every hub's reader serves
//    them and every hub's live listener pushes them; each alert is also a NOTIFY on
//    kHubPluginsChannel (its own JSON) for the hubs to push to their browsers;
//  * statistics into trainscope.plugin_stats, with a NOTIFY on kHubPluginsChannel each.
// Nothing twice: a derived point at a step its series already holds, and an alert already
// stored (same run, plugin, kind, metric and step), are dropped. load() reads what PostgreSQL
// holds, so a hub that takes over goes on from the hub before it.
//
// Used by one thread (HubPlugins'), on the connection that holds the lock.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace Poco {
class Logger;
}

namespace trainscope::agent {

class PgConnection;

/// The agent id the hub's derived series and alerts are shipped under.
inline constexpr const char* kHubPluginsAgent = "hub-plugins";
/// The host those series name.
inline constexpr const char* kHubPluginsHost = "hub";
/// NOTIFY channel: a run's statistics changed ({"type":"stats","session_id","plugin"}), or an
/// alert was raised (the alert's JSON, "type":"alert").
inline constexpr const char* kHubPluginsChannel = "trainscope_plugins";

struct DerivedPoint {
    std::string session, name;  ///< name: "<plugin>/<series>"
    std::int64_t step;
    double value;
    std::int64_t t_us;          ///< when it was published
};

struct RaisedAlert {
    std::string session, json;
};

/// (session, plugin) -> the statistics JSON it published last.
using PluginStatsMap = std::map<std::pair<std::string, std::string>, std::string>;

class PluginOutputWriter {
public:
    explicit PluginOutputWriter(Poco::Logger& log) : log_(log) {}

    /// Reads what PostgreSQL holds of kHubPluginsAgent: the next batch and event numbers,
    /// each run's seq, each derived series' highest step, the stored alerts.
    void load(PgConnection& pg);
    /// Writes the points and alerts not stored yet, in one batch. Throws PgError.
    void write(PgConnection& pg, std::vector<DerivedPoint> points, std::vector<RaisedAlert> alerts);
    void write_stats(PgConnection& pg, const PluginStatsMap& stats);

    using AlertKey = std::tuple<std::string, std::string, std::string, std::string, std::int64_t>;

private:
    Poco::Logger& log_;
    std::int64_t next_batch_ = 1;
    std::int64_t next_event_ = 1;
    std::map<std::string, std::int64_t> run_seq_;  ///< run -> kHubPluginsAgent's shipped seq
    std::map<std::pair<std::string, std::string>, std::int64_t> series_id_;  ///< (run, name) -> id
    std::map<std::int64_t, std::int64_t> max_step_;  ///< series id -> highest step stored
    std::set<AlertKey> alerts_stored_;
};

}  // namespace trainscope::agent
