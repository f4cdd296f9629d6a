// The hub's live push: one thread LISTENs on trainscope_points (its own connection) and,
// for each shipped batch's notification, reads the sending agent's new points by primary-key
// range (seq above what it pushed, up to the run's shipped_seq) and hands them to the
// WebSocket hub, as the collector does on a node agent. No polling per point: the thread
// sleeps in poll(2) on the connection's socket until PostgreSQL sends something.
//
// Pushed points carry the hub's seq of their run, read from run_seq_map (pg_seq_map.hpp), so
// every hub numbers a point alike and a replay (PgReader::points_since) matches the push.
// It also LISTENs on trainscope_runs, where a hub says a user edited or deleted a run, and
// passes run_updated / run_deleted on to its WebSocket clients.
//
// If PostgreSQL goes away, the thread reconnects with backoff (100 ms doubling to 2 s, one
// log line when the outage starts and one when it ends) and then pushes what was shipped
// meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace Poco {
class Logger;
}

namespace trainscope::agent {

class CollectorListener;
class PgConnection;

class PgListener {
public:
    PgListener(std::string conninfo, CollectorListener& sink, Poco::Logger& log);
    ~PgListener();
    PgListener(const PgListener&) = delete;
    PgListener& operator=(const PgListener&) = delete;

    void start();
    void stop();

    /// Whether the listener is connected now (false before its first connection), and if
    /// not, PostgreSQL's error and for how long. Thread-safe: /healthz reads it.
    struct Health {
        bool ok = false;
        std::string error;
        double outage_s = 0;
    };
    Health health() const;

private:
    void run();
    /// LISTENs, then reads run_nodes: on the first connection it only learns where each
    /// (run, node) stands; later ones push what was shipped while the thread was away.
    void connect_and_catch_up(PgConnection& pg);
    /// Waits for notifications and pushes their points until stop() or an error.
    void listen(PgConnection& pg);
    /// Handles every notification libpq holds, including those that arrive meanwhile.
    void handle_notifications(PgConnection& pg);
    /// Pushes the new points of every (run, node) whose shipped_seq passed what was pushed.
    /// `agent_id` empty: every node.
    void push_new(PgConnection& pg, const std::string& agent_id);
    /// Pushes the run's ranges of run_seq_map past what was pushed.
    void push_run(PgConnection& pg, const std::string& session);
    void forget_run(const std::string& session);

    std::string conninfo_;
    CollectorListener& sink_;
    Poco::Logger& log_;
    void set_health(bool ok, const std::string& error);
    std::atomic<bool> stopping_{false};
    mutable std::mutex health_mutex_;
    bool ok_ = false;
    std::string error_;
    std::chrono::steady_clock::time_point down_since_ = std::chrono::steady_clock::now();
    std::thread thread_;
    bool initialised_ = false;
    /// Per (run, agent): the highest of the agent's seq pushed. Only the thread touches these.
    std::map<std::pair<std::string, std::string>, std::int64_t> pushed_;
    /// Per run: the hub's seq of the newest point pushed.
    std::map<std::string, std::int64_t> run_seq_;
};

}  // namespace trainscope::agent
