#include "hub/pg_plugin_source.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>

#include "forward/pg_connection.hpp"
#include "hub/plugin_output_writer.hpp"
#include "hub/pg_reader.hpp"
#include "serve/json_out.hpp"

namespace trainscope::agent {

namespace {

constexpr std::int64_t kChunk = 50'000;  ///< points per read while catching up

}  // namespace

std::vector<SeriesUpdate> read_agent_points(PgConnection& pg, const std::string& session, const std::string& agent,
                                            std::int64_t after, std::int64_t upto) {
    // Each series' (series_id, seq) primary-key range: no scan of the run's other points.
    PgResult rows = pg.exec(
        "SELECT s.rank, s.name, p.seq, p.step, p.t_us, p.value FROM trainscope.series s "
        "JOIN trainscope.points p ON p.series_id = s.id "
        "WHERE s.session_id = $1 AND s.agent_id = $2 AND p.seq > $3 AND p.seq <= $4 ORDER BY p.seq",
        {session, agent, std::to_string(after), std::to_string(upto)});
    std::vector<SeriesUpdate> updates;
    std::map<std::pair<int, std::string>, std::size_t> index;
    for (int i = 0; i < rows.rows(); ++i) {
        int rank = static_cast<int>(rows.int64(i, 0));
        auto [it, added] = index.try_emplace({rank, rows.text(i, 1)}, updates.size());
        if (added) updates.push_back(SeriesUpdate{session, rank, rows.text(i, 1), {}});
        updates[it->second].points.push_back(StoredPoint{rows.int64(i, 2), rows.int64(i, 3),
                                                         static_cast<double>(rows.int64(i, 4)) / 1000.0,
                                                         pg_double(rows.text(i, 5), rows.is_null(i, 5))});
    }
    return updates;
}

std::optional<std::string> PgPluginSource::run_config(const std::string& session) {
    PgReader reader(pool_);
    return reader.run_text(session, "config");
}

std::optional<RunInfo> PgPluginSource::run(const std::string& session) {
    PgReader reader(pool_);
    return reader.run(session);
}

bool PgPluginSource::for_each_point(
    const std::string& session, const std::function<void(std::string_view, int, std::int64_t, std::int64_t, double)>& fn) {
    PgConnection pg(conninfo_);
    // One snapshot, streamed through a cursor: a long run never sits whole in memory.
    pg.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (pg.exec("SELECT 1 FROM trainscope.runs WHERE session_id = $1", {session}).rows() == 0) return false;
    // Series of one name and rank on several nodes (a derived series and a trainer's of the
    // same name cannot share a rank: derived ones are rank 0 of agent kHubPluginsAgent) come
    // one node after the other.
    pg.exec("DECLARE run_points NO SCROLL CURSOR FOR SELECT s.name, s.rank, p.step, p.t_us, p.value "
            "FROM trainscope.series s JOIN trainscope.points p ON p.series_id = s.id WHERE s.session_id = $1 "
            "ORDER BY s.name COLLATE \"C\", s.rank, s.agent_id, p.seq",
            {session});
    for (;;) {
        PgResult rows = pg.exec("FETCH 20000 FROM run_points");
        for (int i = 0; i < rows.rows(); ++i)
            fn(rows.text(i, 0), static_cast<int>(rows.int64(i, 1)), rows.int64(i, 2), rows.int64(i, 3),
               pg_double(rows.text(i, 4), rows.is_null(i, 4)));
        if (rows.rows() < 20000) break;
    }
    pg.exec("COMMIT");
    return true;
}

void PgPluginSource::plan_catch_up(std::int64_t budget) {
    PgConnection pg(conninfo_);
    // Newest runs first, each with what every node shipped of it and whether any still runs.
    PgResult r = pg.exec(
        "SELECT n.session_id, n.agent_id, n.shipped_seq, r.started_ms, "
        "bool_or(n.status = 'running') OVER (PARTITION BY n.session_id) "
        "FROM trainscope.run_nodes n JOIN trainscope.runs r USING (session_id) "
        "ORDER BY r.started_ms DESC, n.session_id, n.agent_id");
    std::lock_guard<std::mutex> lock(mutex_);
    plan_.clear();
    cut_.clear();
    std::vector<PlannedRun> runs;
    for (int i = 0; i < r.rows(); ++i) {
        std::string session = r.text(i, 0);
        if (runs.empty() || runs.back().session != session) runs.push_back(PlannedRun{session, {}, r.text(i, 4) != "t"});
        if (r.text(i, 1) != kHubPluginsAgent) runs.back().upto.emplace_back(r.text(i, 1), r.int64(i, 2));
        cut_[{session, r.text(i, 1)}] = r.int64(i, 2);
    }
    for (PlannedRun& run : runs) {
        std::int64_t points = 0;
        for (const auto& [agent, seq] : run.upto) points += seq;
        if (points == 0 || points > budget) continue;
        budget -= points;
        plan_.push_back(std::move(run));
    }
    std::reverse(plan_.begin(), plan_.end());  // oldest first, as a node agent feeds them
}

std::int64_t PgPluginSource::catch_up(const std::function<void(const std::vector<SeriesUpdate>&)>& points,
                                      const std::function<void(const std::string&)>& ended,
                                      const std::atomic<bool>& stopping) {
    std::vector<PlannedRun> plan;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        plan = plan_;
    }
    if (plan.empty()) return 0;
    PgConnection pg(conninfo_);
    std::int64_t fed = 0;
    for (const PlannedRun& run : plan) {
        for (const auto& [agent, upto] : run.upto)
            for (std::int64_t after = 0; after < upto && !stopping; after += kChunk) {
                std::vector<SeriesUpdate> chunk = read_agent_points(pg, run.session, agent, after,
                                                                    std::min(upto, after + kChunk));
                for (const SeriesUpdate& u : chunk) fed += static_cast<std::int64_t>(u.points.size());
                if (!chunk.empty()) points(chunk);
            }
        if (run.ended) ended(run.session);
    }
    return fed;
}

std::size_t PgPluginSource::catch_up_runs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return plan_.size();
}

AgentSeqs PgPluginSource::planned_cut() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cut_;
}

std::optional<std::string> PgPluginSource::analytics_json(const std::string& session) {
    PgConnection pg(conninfo_);
    PgResult r = pg.exec("SELECT plugin, stats FROM trainscope.plugin_stats WHERE session_id = $1 ORDER BY plugin",
                         {session});
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    for (int i = 0; i < r.rows(); ++i) {
        std::string stats = r.text(i, 1);
        rapidjson::Document doc;  // written by a hub's publish_stats, which checked it; checked again
        if (doc.Parse(stats.c_str()).HasParseError() || !doc.IsObject()) continue;
        w.Key(r.text(i, 0).c_str());
        w.RawValue(stats.data(), stats.size(), rapidjson::kObjectType);
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace trainscope::agent
