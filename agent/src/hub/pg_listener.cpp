#include "hub/pg_listener.hpp"

#include <poll.h>

#include <Poco/Logger.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "forward/pg_connection.hpp"
#include "hub/pg_reader.hpp"
#include "ingest/collector.hpp"

namespace trainscope::agent {

namespace {

/// At most this many points per read: a catch-up after an outage comes in slices.
constexpr std::int64_t kSlicePoints = 100'000;

}  // namespace

PgListener::PgListener(std::string conninfo, CollectorListener& sink, Poco::Logger& log)
    : conninfo_(std::move(conninfo)), sink_(sink), log_(log) {}

PgListener::~PgListener() { stop(); }

void PgListener::start() { thread_ = std::thread([this] { run(); }); }

void PgListener::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

PgListener::Health PgListener::health() const {
    std::lock_guard<std::mutex> lock(health_mutex_);
    Health h{ok_, error_, 0};
    if (!ok_) h.outage_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - down_since_).count();
    return h;
}

void PgListener::set_health(bool ok, const std::string& error) {
    std::lock_guard<std::mutex> lock(health_mutex_);
    if (!ok && ok_) down_since_ = std::chrono::steady_clock::now();
    ok_ = ok;
    error_ = error;
}

void PgListener::run() {
    auto backoff = std::chrono::milliseconds(100);
    bool in_outage = false;
    while (!stopping_) {
        try {
            PgConnection pg(conninfo_);
            connect_and_catch_up(pg);
            if (in_outage) log_.information("hub: PostgreSQL is back; live updates resume");
            in_outage = false;
            set_health(true, "");
            backoff = std::chrono::milliseconds(100);
            listen(pg);
        } catch (const std::exception& e) {
            if (!in_outage) log_.warning("hub: live updates paused, PostgreSQL: %s (retrying)", std::string(e.what()));
            in_outage = true;
            set_health(false, e.what());
        }
        // Sleep in short steps so stop() is never kept waiting for a whole backoff.
        for (auto slept = std::chrono::milliseconds(0); slept < backoff && !stopping_;
             slept += std::chrono::milliseconds(50))
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
}

void PgListener::connect_and_catch_up(PgConnection& pg) {
    // LISTEN before reading where runs stand: a batch committed in between is then both in
    // that read and notified, and the notification finds nothing new, rather than lost.
    pg.exec("LISTEN trainscope_points");
    if (!initialised_) {
        PgResult r = pg.exec("SELECT session_id, agent_id, shipped_seq FROM trainscope.run_nodes");
        for (int i = 0; i < r.rows(); ++i) {
            pushed_[{r.text(i, 0), r.text(i, 1)}] = r.int64(i, 2);
            run_seq_[r.text(i, 0)] += r.int64(i, 2);
        }
        initialised_ = true;
        return;
    }
    push_new(pg, "");
}

void PgListener::listen(PgConnection& pg) {
    int fd = PQsocket(pg.handle());
    if (fd < 0) throw PgError("the connection has no socket");
    while (!stopping_) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 250) <= 0) continue;
        if (!PQconsumeInput(pg.handle())) throw PgError(PQerrorMessage(pg.handle()));
        std::vector<std::string> agents;
        while (PGnotify* n = PQnotifies(pg.handle())) {
            rapidjson::Document doc;
            doc.Parse(n->extra);
            if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("agent_id") && doc["agent_id"].IsString())
                agents.emplace_back(doc["agent_id"].GetString());
            else
                agents.emplace_back();  // unreadable: look at every node
            PQfreemem(n);
        }
        std::sort(agents.begin(), agents.end());
        agents.erase(std::unique(agents.begin(), agents.end()), agents.end());
        if (!agents.empty() && agents.front().empty()) agents = {""};
        // The agent's run_nodes rows (not the payload's list, which may be cut short) say how
        // far each of its runs was shipped.
        for (const std::string& agent : agents) push_new(pg, agent);
    }
}

void PgListener::push_new(PgConnection& pg, const std::string& agent_id) {
    PgResult r = agent_id.empty()
                     ? pg.exec("SELECT session_id, agent_id, shipped_seq FROM trainscope.run_nodes")
                     : pg.exec("SELECT session_id, agent_id, shipped_seq FROM trainscope.run_nodes "
                               "WHERE agent_id = $1",
                               {agent_id});
    for (int i = 0; i < r.rows(); ++i) {
        std::string session = r.text(i, 0);
        auto key = std::make_pair(session, r.text(i, 1));
        bool new_run = !run_seq_.count(session);
        if (new_run) {
            run_seq_[session] = 0;
            sink_.on_run_event("run_started", session);
        }
        if (r.int64(i, 2) > pushed_[key]) push_range(pg, session, key.second, r.int64(i, 2));
    }
}

void PgListener::push_range(PgConnection& pg, const std::string& session, const std::string& agent_id,
                            std::int64_t upto) {
    std::int64_t& pushed = pushed_[{session, agent_id}];
    std::int64_t& run_seq = run_seq_[session];
    while (pushed < upto && !stopping_) {
        std::int64_t slice_end = std::min(upto, pushed + kSlicePoints);
        // The agent's series of the run, then each one's (series_id, seq) primary-key range.
        PgResult rows = pg.exec(
            "SELECT s.rank, s.name, p.seq, p.step, p.t_us, p.value FROM trainscope.series s "
            "JOIN trainscope.points p ON p.series_id = s.id "
            "WHERE s.session_id = $1 AND s.agent_id = $2 AND p.seq > $3 AND p.seq <= $4 ORDER BY p.seq",
            {session, agent_id, std::to_string(pushed), std::to_string(slice_end)});
        std::vector<SeriesUpdate> updates;
        std::map<std::pair<int, std::string>, std::size_t> index;
        for (int i = 0; i < rows.rows(); ++i) {
            int rank = static_cast<int>(rows.int64(i, 0));
            std::string name = rows.text(i, 1);
            auto [it, added] = index.try_emplace({rank, name}, updates.size());
            if (added) updates.push_back(SeriesUpdate{session, rank, name, {}});
            // Every point of the node's run took the next seq, so its place past `pushed`
            // is its place in the hub's count past run_seq.
            std::int64_t seq = run_seq + (rows.int64(i, 2) - pushed);
            updates[it->second].points.push_back(StoredPoint{seq, rows.int64(i, 3),
                                                             static_cast<double>(rows.int64(i, 4)) / 1000.0,
                                                             pg_double(rows.text(i, 5), rows.is_null(i, 5))});
        }
        run_seq += slice_end - pushed;
        pushed = slice_end;
        if (!updates.empty()) sink_.on_points(updates);
    }
}

}  // namespace trainscope::agent
