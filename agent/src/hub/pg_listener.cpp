#include "hub/pg_listener.hpp"

#include <poll.h>

#include <Poco/Logger.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <chrono>
#include <vector>

#include "forward/pg_connection.hpp"
#include "forward/pg_schema.hpp"
#include "hub/pg_reader.hpp"
#include "hub/pg_seq_map.hpp"
#include "ingest/collector.hpp"

namespace trainscope::agent {

namespace {

/// The (run, node) rows of runs not deleted on a hub, and how far each node shipped.
constexpr const char* kLiveRunNodes =
    "SELECT n.session_id, n.agent_id, n.shipped_seq FROM trainscope.run_nodes n "
    "WHERE EXISTS (SELECT 1 FROM trainscope.runs r WHERE r.session_id = n.session_id)";

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
    pg.exec(std::string("LISTEN ") + kPgRunsChannel);
    if (!initialised_) {
        // One snapshot: where each node stands and how far each run's hub seq reaches agree.
        pg.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        PgResult r = pg.exec(kLiveRunNodes);
        PgResult seqs = pg.exec("SELECT session_id, max(run_seq_to) FROM trainscope.run_seq_map GROUP BY session_id");
        pg.exec("COMMIT");
        for (int i = 0; i < r.rows(); ++i) {
            pushed_[{r.text(i, 0), r.text(i, 1)}] = r.int64(i, 2);
            run_seq_.emplace(r.text(i, 0), 0);
        }
        for (int i = 0; i < seqs.rows(); ++i)
            if (run_seq_.count(seqs.text(i, 0))) run_seq_[seqs.text(i, 0)] = seqs.int64(i, 1);
        initialised_ = true;
        return;
    }
    push_new(pg, "");
}

void PgListener::listen(PgConnection& pg) {
    int fd = PQsocket(pg.handle());
    if (fd < 0) throw PgError("the connection has no socket");
    while (!stopping_) {
        // First what libpq already holds: notifications that arrived while a push's queries
        // ran were read off the socket then, and poll(2) would not wake for them (they would
        // wait for the next batch, or for ever after the last one).
        handle_notifications(pg);
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 250) <= 0) continue;
        if (!PQconsumeInput(pg.handle())) throw PgError(PQerrorMessage(pg.handle()));
    }
}

void PgListener::handle_notifications(PgConnection& pg) {
    for (;;) {
        std::vector<std::string> agents;
        std::vector<std::pair<std::string, std::string>> run_events;  // (kind, session)
        while (PGnotify* n = PQnotifies(pg.handle())) {
            rapidjson::Document doc;
            doc.Parse(n->extra);
            auto member = [&doc](const char* key) -> std::string {
                if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(key) || !doc[key].IsString()) return {};
                return doc[key].GetString();
            };
            if (std::string(n->relname) == kPgRunsChannel) {
                if (!member("kind").empty() && !member("session_id").empty())
                    run_events.emplace_back(member("kind"), member("session_id"));
            } else {
                agents.push_back(member("agent_id"));  // empty if unreadable: look at every node
            }
            PQfreemem(n);
        }
        if (agents.empty() && run_events.empty()) return;
        for (const auto& [kind, session] : run_events) {
            if (kind == "run_deleted") forget_run(session);
            sink_.on_run_event(kind, session);
        }
        std::sort(agents.begin(), agents.end());
        agents.erase(std::unique(agents.begin(), agents.end()), agents.end());
        if (!agents.empty() && agents.front().empty()) agents = {""};
        // The agent's run_nodes rows (not the payload's list, which may be cut short) say how
        // far each of its runs was shipped.
        for (const std::string& agent : agents) push_new(pg, agent);
    }
}

void PgListener::forget_run(const std::string& session) {
    run_seq_.erase(session);
    for (auto it = pushed_.begin(); it != pushed_.end();)
        it = it->first.first == session ? pushed_.erase(it) : std::next(it);
}

void PgListener::push_new(PgConnection& pg, const std::string& agent_id) {
    PgResult r = agent_id.empty() ? pg.exec(kLiveRunNodes)
                                  : pg.exec(std::string(kLiveRunNodes) + " AND n.agent_id = $1", {agent_id});
    for (int i = 0; i < r.rows(); ++i) {
        std::string session = r.text(i, 0);
        bool new_run = !run_seq_.count(session);
        if (new_run) {
            run_seq_[session] = 0;
            sink_.on_run_event("run_started", session);
        }
        if (r.int64(i, 2) > pushed_[{session, r.text(i, 1)}]) push_run(pg, session);
    }
}

void PgListener::push_run(PgConnection& pg, const std::string& session) {
    std::int64_t& run_seq = run_seq_[session];
    // Ranges commit in the order they were numbered, so those past run_seq follow on from it.
    for (const SeqRange& range : seq_ranges(pg, session, run_seq, std::numeric_limits<std::int64_t>::max())) {
        if (stopping_) return;
        if (range.run_from > run_seq)
            log_.warning("hub: run %s skips hub seq %s to %s (not in run_seq_map)", session,
                         std::to_string(run_seq), std::to_string(range.run_from));
        // A batch ships at most 100,000 points, so one range is one read of bounded size.
        std::vector<SeriesUpdate> updates;
        read_range_points(pg, session, range, run_seq, range.run_to, updates);
        run_seq = range.run_to;
        std::int64_t& pushed = pushed_[{session, range.agent_id}];
        pushed = std::max(pushed, range.node_from + (range.run_to - range.run_from));
        if (!updates.empty()) sink_.on_points(updates);
    }
}

}  // namespace trainscope::agent
