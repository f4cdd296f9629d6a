// Where the plugin host reads what plugins ask about (a run's config, status and points), the
// stored points it catches plugins up on at start, and the statistics it answers
// /api/runs/{id}/analytics with. A node agent leaves PluginHostOptions::source null and the
// host reads its own SQLite; a hub (--hub) gives one that reads PostgreSQL
// (hub/pg_plugin_source.hpp), because there the points and statistics live in PostgreSQL.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.hpp"

namespace trainscope::agent {

class PluginSource {
public:
    virtual ~PluginSource() = default;

    /// The run's config text ("" if none); nullopt if the run is unknown.
    virtual std::optional<std::string> run_config(const std::string& session) = 0;
    virtual std::optional<RunInfo> run(const std::string& session) = 0;
    /// Every point of the run, (metric, rank) after (metric, rank), each in arrival order.
    /// False if the run is unknown.
    virtual bool for_each_point(const std::string& session,
                                const std::function<void(std::string_view metric, int rank, std::int64_t step,
                                                         std::int64_t t_us, double value)>& fn) = 0;

    /// Called once as the host starts: fixes which stored points catch_up() feeds, the
    /// newest runs' first, up to `budget` points in all.
    virtual void plan_catch_up(std::int64_t budget) = 0;
    /// Feeds the planned points, a chunk at a time, and `ended` for each planned run that
    /// ended; returns the points fed. Called on each plugin's own thread.
    virtual std::int64_t catch_up(const std::function<void(const std::vector<SeriesUpdate>&)>& points,
                                  const std::function<void(const std::string& session)>& ended,
                                  const std::atomic<bool>& stopping) = 0;
    /// How many runs plan_catch_up chose.
    virtual std::size_t catch_up_runs() const = 0;

    /// Statistics published elsewhere (another process's plugins): {"<plugin>": {...}, ...}
    /// for the run; nullopt to answer from what this process's plugins published.
    virtual std::optional<std::string> analytics_json(const std::string& session) = 0;
};

}  // namespace trainscope::agent
