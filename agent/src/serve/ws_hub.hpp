// The WebSocket hub: pushes committed points to browsers, batched, and never lets a slow
// client slow anything else.
//
// Flow: the collector calls on_points() after each commit; the hub appends the points to
// every subscribed client's bounded queue and returns. Each client's own handler thread
// flushes its queue at most every 16 ms (~60 flushes/s), one training_update per series.
// A client whose queue overflows loses its queue and is replayed from the database from
// the last point it was sent; a client that stops reading hits the send timeout and is
// dropped. Reconnecting clients send subscribe{session_id, since_seq} and are replayed
// exactly what they missed.
//
// A client that reads slowly can keep a send "making progress" forever, so a socket send
// timeout alone never fires: a watchdog shuts down the socket of any client whose flush has
// taken longer than send_timeout_ms. Clients are capped below the HTTP thread pool, so
// WebSockets can never take every thread from plain requests.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <thread>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ingest/collector.hpp"
#include "store/types.hpp"

namespace Poco {
class Logger;
}

namespace trainscope::agent {

class RunReader;

struct HubOptions {
    std::size_t max_queued_points = 50'000;  ///< per client; beyond it, replay from the store
    int flush_interval_ms = 16;
    int send_timeout_ms = 5'000;          ///< per flush, enforced by the watchdog
    std::size_t max_clients = 48;           ///< beyond it, 503 (the HTTP pool has 64 threads)
    std::size_t max_points_per_message = 5'000;
};

class WebSocketHub : public CollectorListener {
public:
    using DroppedFn = std::function<std::map<std::string, std::uint64_t>()>;

    /// live_dropped: the drop counts of live runs (the collector's), for run objects.
    WebSocketHub(std::string db_path, std::string version, Poco::Logger& log, HubOptions options = {},
                 DroppedFn live_dropped = {});
    ~WebSocketHub() override;

    /// Where sessions read runs and replays: by default the SQLite at db_path (Queries); a
    /// hub reads PostgreSQL instead. Set before start().
    void set_reader(std::function<std::unique_ptr<RunReader>()> open) { open_reader_ = std::move(open); }
    std::unique_ptr<RunReader> open_reader() const;

    /// Starts the stalled-client watchdog.
    void start();
    /// Closes every client connection.
    void stop();

    /// A handler for one upgraded /ws request (owned by the HTTP server).
    Poco::Net::HTTPRequestHandler* make_handler();

    void on_points(const std::vector<SeriesUpdate>& updates) override;
    void on_run_event(const std::string& kind, const std::string& session_id) override;

    /// Sends a ready-made JSON message (analytics, alert) to every client subscribed to
    /// session_id, or to all clients if session_id is empty.
    void broadcast(const std::string& session_id, std::string json);

    std::size_t client_count() const;
    /// Live drop counts per session (empty without a collector).
    std::map<std::string, std::uint64_t> dropped() const;

    struct Client;

private:
    friend class WebSocketSession;
    void add(const std::shared_ptr<Client>& c);
    void remove(const std::shared_ptr<Client>& c);
    /// False (and nothing kept) for a session the store does not know. `q` is the calling
    /// client's own connection: a subscribe opens none.
    bool subscribe(Client& c, RunReader& q, const std::string& session_id, std::int64_t since_seq,
                   bool has_since);
    void unsubscribe(Client& c, const std::string& session_id);

    void watchdog();

    std::string db_path_;
    std::function<std::unique_ptr<RunReader>()> open_reader_;
    std::string version_;
    DroppedFn live_dropped_;
    Poco::Logger& log_;
    HubOptions options_;
    mutable std::mutex mutex_;
    std::set<std::shared_ptr<Client>> clients_;
    std::map<std::string, std::int64_t> published_;  ///< newest committed seq per session
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> slots_{0};  ///< WebSocket handlers alive (or being created)
    std::mutex watchdog_mutex_;
    std::condition_variable watchdog_wake_;
    std::thread watchdog_;
};

}  // namespace trainscope::agent
