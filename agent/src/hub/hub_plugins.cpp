#include "hub/hub_plugins.hpp"

#include <poll.h>

#include <Poco/Logger.h>
#include <rapidjson/document.h>

#include <trainscope/detail/clock.hpp>

#include <algorithm>
#include <chrono>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
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

std::string member_text(const rapidjson::Value& v, const char* name) {
    auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

}  // namespace

HubPlugins::HubPlugins(std::string conninfo, PgPluginSource& source, WebSocketHub& ws, Poco::Logger& log)
    : conninfo_(std::move(conninfo)), source_(source), ws_(ws), log_(log), writer_(log) {}

HubPlugins::~HubPlugins() { stop(); }

PluginSinks HubPlugins::sinks() {
    PluginSinks s;
    // Output is kept only while this hub leads: a hub that lost the lock may still have
    // plugins running on what it was fed, and must not write over the one that leads now.
    s.point = [this](const std::string& session, const std::string& name, std::int64_t step, double value) {
        if (!leading_) return;
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (derived_.size() < kMaxQueued)
            derived_.push_back(DerivedPoint{session, name, step, value, detail::now_unix_ns() / 1000});
    };
    s.event = [this](const std::string& session, const std::string& kind, const std::string& text) {
        if (!leading_ || kind != "alert") return;
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (alerts_.size() < 10'000) alerts_.push_back(RaisedAlert{session, text});
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
    // A hub without plugins (--plugins-dir=) must not take the lock from one that has them.
    for (const PluginStatus& p : plugins.status())
        if (p.state == "enabled") wants_lock_ = true;
    if (!wants_lock_) log_.information("hub plugins: none loaded; another hub may run them");
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
        if (wants_lock_ && !leading_ && Clock::now() >= next_try) {
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
    writer_.load(pg);
    leading_ = true;
    return true;
}

void HubPlugins::feed_new(PgConnection& pg, const std::string& agent_id) {
    // Every node row of the runs the agent touched, with whether any node of the run still runs.
    PgResult r = pg.exec(
        "SELECT session_id, agent_id, shipped_seq, bool_or(status = 'running') OVER (PARTITION BY session_id) "
        "FROM trainscope.run_nodes WHERE $1 = '' OR session_id IN "
        "(SELECT session_id FROM trainscope.run_nodes WHERE agent_id = $1) ORDER BY session_id, agent_id",
        {agent_id});
    std::map<std::string, bool> seen;  // run -> running, for the runs read now
    std::set<std::string> started;     // runs new to the plugins in this call
    for (int i = 0; i < r.rows(); ++i) {
        std::string session = r.text(i, 0), agent = r.text(i, 1);
        bool running = r.text(i, 3) == "t";
        seen[session] = running;
        auto key = std::make_pair(session, agent);
        auto fed = fed_.find(key);
        if (fed == fed_.end()) {
            bool new_run = fed_.lower_bound({session, ""}) == fed_.end() ||
                           fed_.lower_bound({session, ""})->first.first != session;
            if (new_run) {
                plugins_->on_run_event("run_started", session);
                started.insert(session);
            }
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
        // A run seen running that no longer runs has ended, and so has a new run that arrived
        // ended (shipped whole between two looks); one first seen ended while it was in the
        // catch-up plan had its run_ended there.
        bool was_running = was != running_.end() ? was->second : started.count(session) > 0;
        if (was_running && !running) plugins_->on_run_event("run_ended", session);
        running_[session] = running;
    }
}

void HubPlugins::flush(PgConnection& pg) {
    std::vector<DerivedPoint> points;
    std::vector<RaisedAlert> alerts;
    PluginStatsMap stats;
    {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        points.swap(derived_);
        alerts.swap(alerts_);
        stats.swap(stats_);
    }
    if (!points.empty() || !alerts.empty()) writer_.write(pg, std::move(points), std::move(alerts));
    if (!stats.empty()) writer_.write_stats(pg, stats);
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
        ws_.broadcast(session, analytics_message(plugin, session, stats));
    }
}

}  // namespace trainscope::agent
