#include "hub/hub_plugins.hpp"

#include <poll.h>

#include <Poco/Logger.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

#include <trainscope/detail/clock.hpp>

#include <chrono>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "forward/ship_batch.hpp"
#include "serve/json_out.hpp"
#include "serve/ws_hub.hpp"

namespace trainscope::agent {

namespace {

using Clock = std::chrono::steady_clock;

/// Points per read while feeding the plugins: a backlog comes in slices.
constexpr std::int64_t kSlicePoints = 100'000;
/// Derived points waiting to be written; past this (PostgreSQL away a long time) the newest
/// are dropped rather than memory growing without end.
constexpr std::size_t kMaxQueued = 1'000'000;
/// NOTIFY payloads must stay under 8000 bytes; a larger alert is stored, not pushed.
constexpr std::size_t kMaxPayload = 7000;

using AlertKey = std::tuple<std::string, std::string, std::string, std::string, std::int64_t>;

std::string member_text(const rapidjson::Value& v, const char* name) {
    auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

/// (run, plugin, kind, metric, step): what makes an alert the same alert.
std::optional<AlertKey> alert_key(const std::string& session, const std::string& json) {
    rapidjson::Document doc;
    if (doc.Parse(json.c_str()).HasParseError() || !doc.IsObject()) return std::nullopt;
    auto step = doc.FindMember("step");
    std::int64_t s = step != doc.MemberEnd() && step->value.IsInt64() ? step->value.GetInt64() : 0;
    return AlertKey{session, member_text(doc, "plugin"), member_text(doc, "kind"), member_text(doc, "metric"), s};
}

}  // namespace

HubPlugins::HubPlugins(std::string conninfo, PgPluginSource& source, WebSocketHub& ws, Poco::Logger& log)
    : conninfo_(std::move(conninfo)), source_(source), ws_(ws), log_(log) {}

HubPlugins::~HubPlugins() { stop(); }

PluginSinks HubPlugins::sinks() {
    PluginSinks s;
    // Output is kept only while this hub leads: a hub that lost the lock may still have
    // plugins running on what it was fed, and must not write over the one that leads now.
    s.point = [this](const std::string& session, const std::string& name, std::int64_t step, double value) {
        if (!leading_) return;
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (derived_.size() < kMaxQueued)
            derived_.push_back(Derived{session, name, step, value, detail::now_unix_ns() / 1000});
    };
    s.event = [this](const std::string& session, const std::string& kind, const std::string& text) {
        if (!leading_ || kind != "alert") return;
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (alerts_.size() < 10'000) alerts_.push_back(Alert{session, text});
    };
    s.stats = [this](const std::string& plugin, const std::string& session, const std::string& json) {
        if (!leading_) return;
        std::lock_guard<std::mutex> lock(queue_mutex_);
        stats_[{session, plugin}] = json;
    };
    // Browsers hear of statistics and alerts from the NOTIFY every hub LISTENs to (on_notice),
    // this one included: pushing them here too would send each twice.
    s.broadcast = [](const std::string&, const std::string&) {};
    return s;
}

void HubPlugins::start(PluginHost& plugins) {
    plugins_ = &plugins;
    thread_ = std::thread([this] { run(); });
}

void HubPlugins::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    leading_ = false;
}

void HubPlugins::run() {
    auto backoff = std::chrono::milliseconds(100);
    bool in_outage = false;
    while (!stopping_) {
        try {
            PgConnection pg(conninfo_);
            pg.exec(std::string("LISTEN ") + kHubPluginsChannel);
            pg.exec(std::string("LISTEN ") + kPgNotifyChannel);
            if (in_outage) log_.information("hub plugins: PostgreSQL is back");
            in_outage = false;
            backoff = std::chrono::milliseconds(100);
            serve(pg);
        } catch (const std::exception& e) {
            // The lock went with the connection: another hub may lead by now.
            if (leading_) log_.warning("hub plugins: no longer running the plugins (PostgreSQL: %s)", std::string(e.what()));
            else if (!in_outage) log_.warning("hub plugins: PostgreSQL: %s (retrying)", std::string(e.what()));
            leading_ = false;
            in_outage = true;
        }
        for (auto slept = std::chrono::milliseconds(0); slept < backoff && !stopping_;
             slept += std::chrono::milliseconds(50))
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
}

void HubPlugins::serve(PgConnection& pg) {
    int fd = PQsocket(pg.handle());
    if (fd < 0) throw PgError("the connection has no socket");
    Clock::time_point next_try = Clock::now();
    while (!stopping_) {
        if (!leading_ && Clock::now() >= next_try) {
            next_try = Clock::now() + std::chrono::seconds(1);
            if (try_lead(pg)) {
                log_.information("hub plugins: this hub runs the plugins now");
                feed_new(pg, "");
            }
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) > 0 && !PQconsumeInput(pg.handle())) throw PgError(PQerrorMessage(pg.handle()));
        std::set<std::string> agents;
        std::vector<std::string> notices;
        while (PGnotify* n = PQnotifies(pg.handle())) {
            if (std::string(n->relname) == kHubPluginsChannel) {
                notices.emplace_back(n->extra);
            } else {
                rapidjson::Document doc;
                doc.Parse(n->extra);
                agents.insert(!doc.HasParseError() && doc.IsObject() ? member_text(doc, "agent_id") : "");
            }
            PQfreemem(n);
        }
        for (const std::string& notice : notices) on_notice(pg, notice);
        if (!leading_) continue;
        if (agents.count("")) agents = {""};  // an unreadable payload: look at every node
        for (const std::string& agent : agents) feed_new(pg, agent);
        flush(pg);
    }
}

bool HubPlugins::try_lead(PgConnection& pg) {
    PgResult r = pg.exec("SELECT pg_try_advisory_lock($1)", {std::to_string(kHubPluginsLock)});
    if (r.text(0, 0) != "t") return false;
    if (!plugins_started_) {
        // The plan reads where every (run, node) stands after this connection LISTENs: a batch
        // shipped in between is both in the catch-up and notified, and the notification then
        // finds nothing new (fed_ starts at the plan's cut).
        plugins_->start();
        fed_ = source_.planned_cut();
        plugins_started_ = true;
    }
    {
        // Whatever was queued before the lock was lost is written by the rules of now.
        std::lock_guard<std::mutex> lock(queue_mutex_);
        derived_.clear();
        alerts_.clear();
    }
    load_writer_state(pg);
    leading_ = true;
    return true;
}

void HubPlugins::load_writer_state(PgConnection& pg) {
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

void HubPlugins::feed_new(PgConnection& pg, const std::string& agent_id) {
    // Every node row of the runs the agent touched, with whether any node of the run still runs.
    PgResult r = pg.exec(
        "SELECT session_id, agent_id, shipped_seq, bool_or(status = 'running') OVER (PARTITION BY session_id) "
        "FROM trainscope.run_nodes WHERE $1 = '' OR session_id IN "
        "(SELECT session_id FROM trainscope.run_nodes WHERE agent_id = $1) ORDER BY session_id, agent_id",
        {agent_id});
    std::map<std::string, bool> seen;  // run -> running, for the runs read now
    for (int i = 0; i < r.rows(); ++i) {
        std::string session = r.text(i, 0), agent = r.text(i, 1);
        bool running = r.text(i, 3) == "t";
        seen[session] = running;
        auto key = std::make_pair(session, agent);
        auto fed = fed_.find(key);
        if (fed == fed_.end()) {
            bool new_run = fed_.lower_bound({session, ""}) == fed_.end() ||
                           fed_.lower_bound({session, ""})->first.first != session;
            if (new_run) plugins_->on_run_event("run_started", session);
            fed = fed_.emplace(key, 0).first;
        }
        std::int64_t upto = r.int64(i, 2);
        while (fed->second < upto && !stopping_) {
            std::int64_t slice_end = std::min(upto, fed->second + kSlicePoints);
            std::vector<SeriesUpdate> updates = read_agent_points(pg, session, agent, fed->second, slice_end);
            fed->second = slice_end;
            if (!updates.empty()) plugins_->on_points(updates);
        }
    }
    for (const auto& [session, running] : seen) {
        auto was = running_.find(session);
        // A run seen running that no longer runs has ended; one first seen ended while it was
        // in the catch-up plan had its run_ended there.
        if (was != running_.end() && was->second && !running) plugins_->on_run_event("run_ended", session);
        running_[session] = running;
    }
}

void HubPlugins::flush(PgConnection& pg) {
    std::vector<Derived> points;
    std::vector<Alert> alerts;
    std::map<std::pair<std::string, std::string>, std::string> stats;
    {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        points.swap(derived_);
        alerts.swap(alerts_);
        stats.swap(stats_);
    }
    if (!points.empty() || !alerts.empty()) write_derived(pg, std::move(points), std::move(alerts));
    if (!stats.empty()) write_stats(pg, stats);
}

void HubPlugins::write_derived(PgConnection& pg, std::vector<Derived> points, std::vector<Alert> alerts) {
    ShipBatch batch;
    batch.agent_id = kHubPluginsAgent;
    batch.host = kHubPluginsHost;
    std::map<std::string, std::int64_t> seqs = run_seq_;  // committed below only if the batch is
    std::map<std::int64_t, std::int64_t> steps = max_step_;
    for (const Derived& d : points) {
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
    for (const Alert& a : alerts) {
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
        load_writer_state(pg);
        return;
    }
    ++next_batch_;
    next_event_ = next_event;
    alerts_stored_ = std::move(raised);
    max_step_ = std::move(steps);
    for (const PgRunRow& row : batch.runs) run_seq_[row.session_id] = row.shipped_seq;
    for (const std::string& json : pushes) pg.exec("SELECT pg_notify($1, $2)", {std::string(kHubPluginsChannel), json});
}

void HubPlugins::write_stats(PgConnection& pg, const std::map<std::pair<std::string, std::string>, std::string>& stats) {
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

void HubPlugins::on_notice(PgConnection& pg, const std::string& payload) {
    rapidjson::Document doc;
    if (doc.Parse(payload.c_str()).HasParseError() || !doc.IsObject()) return;
    std::string type = member_text(doc, "type"), session = member_text(doc, "session_id");
    if (type == "alert") {
        ws_.broadcast(session, payload);
    } else if (type == "stats") {
        std::string plugin = member_text(doc, "plugin");
        PgResult r = pg.exec("SELECT stats FROM trainscope.plugin_stats WHERE session_id = $1 AND plugin = $2",
                             {session, plugin});
        if (r.rows() == 0) return;
        std::string stats = r.text(0, 0);
        rapidjson::Document check;
        if (check.Parse(stats.c_str()).HasParseError() || !check.IsObject()) return;
        rapidjson::StringBuffer buf;
        JsonOut w(buf);
        w.StartObject();
        w.Key("type"); w.String("analytics");
        w.Key("plugin"); write_string(w, plugin);
        w.Key("session_id"); write_string(w, session);
        w.Key("stats"); w.RawValue(stats.data(), stats.size(), rapidjson::kObjectType);
        w.EndObject();
        ws_.broadcast(session, std::string(buf.GetString(), buf.GetSize()));
    }
}

}  // namespace trainscope::agent
