#include "hub/plugin_output_writer.hpp"

#include <Poco/Logger.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include <trainscope/detail/clock.hpp>

#include <optional>

#include "forward/pg_connection.hpp"
#include "forward/ship_batch.hpp"
#include "serve/json_out.hpp"

namespace trainscope::agent {

namespace {

/// NOTIFY payloads must stay under 8000 bytes; a larger alert is stored, not pushed.
constexpr std::size_t kMaxPayload = 7000;

std::string member_text(const rapidjson::Value& v, const char* name) {
    auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

/// (run, plugin, kind, metric, step): what makes an alert the same alert.
std::optional<PluginOutputWriter::AlertKey> alert_key(const std::string& session, const std::string& json) {
    rapidjson::Document doc;
    if (doc.Parse(json.c_str()).HasParseError() || !doc.IsObject()) return std::nullopt;
    auto step = doc.FindMember("step");
    std::int64_t s = step != doc.MemberEnd() && step->value.IsInt64() ? step->value.GetInt64() : 0;
    return PluginOutputWriter::AlertKey{session, member_text(doc, "plugin"), member_text(doc, "kind"),
                                        member_text(doc, "metric"), s};
}

}  // namespace

void PluginOutputWriter::load(PgConnection& pg) {
    const std::string agent = kHubPluginsAgent;
    next_batch_ = pg.exec("SELECT COALESCE(max(batch_seq), 0) + 1 FROM trainscope.ledger WHERE agent_id = $1", {agent})
                      .int64(0, 0);
    next_event_ = pg.exec("SELECT COALESCE(max(local_id), 0) + 1 FROM trainscope.events WHERE agent_id = $1", {agent})
                      .int64(0, 0);
    run_seq_.clear();
    PgResult runs = pg.exec("SELECT session_id, shipped_seq FROM trainscope.run_nodes WHERE agent_id = $1", {agent});
    for (int i = 0; i < runs.rows(); ++i) run_seq_[runs.text(i, 0)] = runs.int64(i, 1);
    series_id_.clear();
    max_step_.clear();
    // The (series_id, step) index answers each max without reading the series.
    PgResult series = pg.exec(
        "SELECT s.id, s.session_id, s.name, (SELECT max(step) FROM trainscope.points p WHERE p.series_id = s.id) "
        "FROM trainscope.series s WHERE s.agent_id = $1",
        {agent});
    for (int i = 0; i < series.rows(); ++i) {
        series_id_[{series.text(i, 1), series.text(i, 2)}] = series.int64(i, 0);
        if (!series.is_null(i, 3)) max_step_[series.int64(i, 0)] = series.int64(i, 3);
    }
    alerts_stored_.clear();
    PgResult events = pg.exec("SELECT session_id, text FROM trainscope.events WHERE agent_id = $1 AND kind = 'alert'",
                              {agent});
    for (int i = 0; i < events.rows(); ++i)
        if (auto key = alert_key(events.text(i, 0), events.text(i, 1))) alerts_stored_.insert(*key);
}

void PluginOutputWriter::write(PgConnection& pg, std::vector<DerivedPoint> points, std::vector<RaisedAlert> alerts) {
    ShipBatch batch;
    batch.agent_id = kHubPluginsAgent;
    batch.host = kHubPluginsHost;
    std::map<std::string, std::int64_t> seqs = run_seq_;  // committed below only if the batch is
    std::map<std::int64_t, std::int64_t> steps = max_step_;
    for (const DerivedPoint& d : points) {
        auto id = series_id_.find({d.session, d.name});
        if (id == series_id_.end()) {
            // Outside the batch's transaction, as a node's shipper does: a series row alone is harmless.
            PgResult row = pg.exec(
                "INSERT INTO trainscope.series (session_id, agent_id, host, rank, name) VALUES ($1, $2, $3, 0, $4) "
                "ON CONFLICT (session_id, agent_id, rank, name) DO UPDATE SET host = excluded.host RETURNING id",
                {d.session, std::string(kHubPluginsAgent), std::string(kHubPluginsHost), d.name});
            id = series_id_.emplace(std::make_pair(d.session, d.name), row.int64(0, 0)).first;
        }
        // Derived series advance by step: one at a step already stored was derived before
        // (by this hub before a restart of its plugins, or by the hub that led before it).
        auto stored = steps.find(id->second);
        if (stored != steps.end() && d.step <= stored->second) continue;
        steps[id->second] = d.step;
        batch.points.push_back(PgPointRow{id->second, ++seqs[d.session], d.step, d.t_us, d.value});
    }
    std::vector<std::string> pushes;
    std::set<AlertKey> raised = alerts_stored_;
    std::int64_t next_event = next_event_;
    for (const RaisedAlert& a : alerts) {
        auto key = alert_key(a.session, a.json);
        if (!key || !raised.insert(*key).second) continue;
        rapidjson::Document doc;
        doc.Parse(a.json.c_str());
        double t_ms = doc.IsObject() && doc.HasMember("t_ms") && doc["t_ms"].IsNumber()
                          ? doc["t_ms"].GetDouble()
                          : static_cast<double>(detail::now_unix_ns()) / 1e6;
        batch.events.push_back(PgEventRow{next_event++, a.session, 0, t_ms, "alert", a.json});
        if (a.json.size() <= kMaxPayload) pushes.push_back(a.json);
    }
    if (batch.points.empty() && batch.events.empty()) return;
    // The run rows of this "node": never running, no pid or end of its own (pg_reader's
    // summary leaves kHubPluginsAgent out of a run's hosts, status and pid).
    double now_ms = static_cast<double>(detail::now_unix_ns()) / 1e6;
    for (const auto& [session, seq] : seqs) {
        if (run_seq_.count(session) && run_seq_.at(session) == seq) continue;
        PgRunRow row;
        row.session_id = session;
        row.status = "finished";
        row.started_ms = now_ms;
        row.shipped_seq = seq;
        batch.runs.push_back(std::move(row));
    }
    batch.batch_seq = next_batch_;
    batch.notify_payload = notify_payload(batch);
    if (!write_batch(pg, batch)) {
        // Another writer used this batch number: re-read what PostgreSQL holds and drop these.
        log_.warning("hub plugins: PostgreSQL already holds batch %s of %s; re-reading", std::to_string(next_batch_),
                     std::string(kHubPluginsAgent));
        load(pg);
        return;
    }
    ++next_batch_;
    next_event_ = next_event;
    alerts_stored_ = std::move(raised);
    max_step_ = std::move(steps);
    for (const PgRunRow& row : batch.runs) run_seq_[row.session_id] = row.shipped_seq;
    for (const std::string& json : pushes) pg.exec("SELECT pg_notify($1, $2)", {std::string(kHubPluginsChannel), json});
}

void PluginOutputWriter::write_stats(PgConnection& pg, const PluginStatsMap& stats) {
    pg.exec("BEGIN");
    try {
        for (const auto& [key, json] : stats) {
            pg.exec("INSERT INTO trainscope.plugin_stats (session_id, plugin, stats) VALUES ($1, $2, $3) "
                    "ON CONFLICT (session_id, plugin) DO UPDATE SET stats = excluded.stats, updated_at = now()",
                    {key.first, key.second, json});
            rapidjson::StringBuffer buf;
            JsonOut w(buf);
            w.StartObject();
            w.Key("type"); w.String("stats");
            w.Key("session_id"); write_string(w, key.first.substr(0, 1000));
            w.Key("plugin"); write_string(w, key.second);
            w.EndObject();
            pg.exec("SELECT pg_notify($1, $2)", {std::string(kHubPluginsChannel), std::string(buf.GetString())});
        }
        pg.exec("COMMIT");
    } catch (...) {
        try { if (pg.ok()) pg.exec("ROLLBACK"); } catch (const PgError&) {}
        throw;
    }
}

}  // namespace trainscope::agent
