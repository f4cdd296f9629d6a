// What plugins on a hub read (plugins/plugin_source.hpp), answered from PostgreSQL: a run's
// config, status and points as every node shipped them, the stored points plugins catch up
// on when this hub starts running them, and the statistics the hub that runs the plugins
// keeps in trainscope.plugin_stats (so every hub answers /api/runs/{id}/analytics alike).
//
// Each call opens its own connection: the plugins' threads and the HTTP threads (the export
// plugin streams a run through for_each_point) call concurrently.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "hub/pg_pool.hpp"
#include "plugins/plugin_source.hpp"

namespace trainscope::agent {

class PgConnection;

/// Where a node's points of a run stand: (session, agent) -> seq.
using AgentSeqs = std::map<std::pair<std::string, std::string>, std::int64_t>;

/// One agent's points of a run with after < seq <= upto, grouped per series (seq is the
/// agent's own), in seq order.
std::vector<SeriesUpdate> read_agent_points(PgConnection& pg, const std::string& session, const std::string& agent,
                                            std::int64_t after, std::int64_t upto);

class PgPluginSource : public PluginSource {
public:
    /// Run reads lease from a pool of its own: plugin threads never wait behind browsers.
    explicit PgPluginSource(std::string conninfo)
        : conninfo_(std::move(conninfo)), pool_(conninfo_, PgPoolOptions{2, std::chrono::milliseconds(5000)}) {}

    std::optional<std::string> run_config(const std::string& session) override;
    std::optional<RunInfo> run(const std::string& session) override;
    bool for_each_point(const std::string& session,
                        const std::function<void(std::string_view, int, std::int64_t, std::int64_t, double)>& fn) override;
    void plan_catch_up(std::int64_t budget) override;
    std::int64_t catch_up(const std::function<void(const std::vector<SeriesUpdate>&)>& points,
                          const std::function<void(const std::string&)>& ended,
                          const std::atomic<bool>& stopping) override;
    std::size_t catch_up_runs() const override;
    std::optional<std::string> analytics_json(const std::string& session) override;

    /// Where every (run, node) stood when plan_catch_up read it: the live feed goes on from there.
    AgentSeqs planned_cut() const;

private:
    struct PlannedRun {
        std::string session;
        std::vector<std::pair<std::string, std::int64_t>> upto;  ///< agent, seq
        bool ended = false;
    };
    std::string conninfo_;
    PgPool pool_;
    mutable std::mutex mutex_;  ///< guards the plan (written once, before the plugins' threads)
    std::vector<PlannedRun> plan_;
    AgentSeqs cut_;
};

}  // namespace trainscope::agent
