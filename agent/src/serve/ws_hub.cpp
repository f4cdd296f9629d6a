#include "serve/ws_hub.hpp"

#include <sys/socket.h>

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <algorithm>
#include <chrono>

#include "serve/http_util.hpp"
#include "serve/ws_client.hpp"
#include "serve/ws_session.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

WebSocketHub::WebSocketHub(std::string db_path, std::string version, Poco::Logger& log,
                           HubOptions options, DroppedFn live_dropped)
    : db_path_(std::move(db_path)),
      version_(std::move(version)),
      live_dropped_(std::move(live_dropped)),
      log_(log),
      options_(options) {}

WebSocketHub::~WebSocketHub() { stop(); }

std::unique_ptr<RunReader> WebSocketHub::open_reader() const {
    if (open_reader_) return open_reader_();
    return std::make_unique<Queries>(db_path_);
}

void WebSocketHub::start() { watchdog_ = std::thread([this] { watchdog(); }); }

void WebSocketHub::stop() {
    {
        std::lock_guard<std::mutex> lock(watchdog_mutex_);
        stopping_ = true;
    }
    watchdog_wake_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
}

std::map<std::string, std::uint64_t> WebSocketHub::dropped() const {
    return live_dropped_ ? live_dropped_() : std::map<std::string, std::uint64_t>{};
}

void WebSocketHub::watchdog() {
    std::unique_lock<std::mutex> wake_lock(watchdog_mutex_);
    while (!stopping_) {
        watchdog_wake_.wait_for(wake_lock, std::chrono::milliseconds(250));
        std::int64_t now = steady_ms();
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& c : clients_) {
            std::int64_t since = c->busy_since_ms;
            if (since == 0 || now - since <= options_.send_timeout_ms || c->closing.exchange(true)) continue;
            // Unblocks the send in the client's thread, which then drops the client.
            ::shutdown(c->fd, SHUT_RDWR);
            log_.warning("websocket client stalled: one flush took over %s ms; dropped",
                         std::to_string(options_.send_timeout_ms));
        }
    }
}

namespace {

/// The reply when every WebSocket slot is taken.
class TooManyClients : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        send_error(response, 503, "too many WebSocket clients; try again later");
    }
};

}  // namespace

Poco::Net::HTTPRequestHandler* WebSocketHub::make_handler() {
    // Reserve the slot now, before the handshake, so a burst cannot overshoot the cap.
    if (slots_.fetch_add(1) >= options_.max_clients) {
        --slots_;
        return new TooManyClients;
    }
    return new_websocket_session(*this);
}

std::size_t WebSocketHub::client_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return clients_.size();
}

void WebSocketHub::add(const std::shared_ptr<Client>& c) {
    std::lock_guard<std::mutex> lock(mutex_);
    clients_.insert(c);
}

void WebSocketHub::remove(const std::shared_ptr<Client>& c) {
    std::lock_guard<std::mutex> lock(mutex_);
    clients_.erase(c);
}

bool WebSocketHub::subscribe(Client& c, RunReader& q, const std::string& session, std::int64_t since,
                             bool has_since) {
    // After an agent restart the hub has seen no points yet: start from the stored count.
    std::optional<std::int64_t> stored = q.last_seq(session);
    if (!stored) return false;  // unknown: no state grows for made-up ids
    std::lock_guard<std::mutex> lock(mutex_);
    std::int64_t& newest = published_[session];
    newest = std::max(newest, *stored);
    Client::Subscription& sub = c.subs[session];
    sub.queue.clear();
    sub.delivered = has_since ? std::min(since, newest) : newest;
    sub.replay = sub.delivered < newest;
    return true;
}

void WebSocketHub::unsubscribe(Client& c, const std::string& session) {
    std::lock_guard<std::mutex> lock(mutex_);
    c.subs.erase(session);
}

void WebSocketHub::on_points(const std::vector<SeriesUpdate>& updates) {
    std::lock_guard<std::mutex> lock(mutex_);
    // Each update's points are rendered once, when the first client queues them, and shared.
    std::vector<std::shared_ptr<const RenderedPoints>> rendered(updates.size());
    for (const SeriesUpdate& u : updates) {
        std::int64_t& newest = published_[u.session_id];
        newest = std::max(newest, u.points.back().seq);
    }
    for (const auto& c : clients_) {
        for (std::size_t i = 0; i < updates.size(); ++i) {
            const SeriesUpdate& u = updates[i];
            auto it = c->subs.find(u.session_id);
            if (it == c->subs.end() || it->second.replay) continue;
            // A subscribe may have replayed these points from the store already (the store
            // commits before this call): skip what the client was sent.
            std::int64_t delivered = it->second.delivered;
            auto first_new = std::find_if(u.points.begin(), u.points.end(),
                                          [delivered](const StoredPoint& p) { return p.seq > delivered; });
            if (first_new == u.points.end()) continue;
            auto& queue = it->second.queue;
            auto q = std::find_if(queue.begin(), queue.end(), [&](const Client::QueuedSeries& x) {
                return x.rank == u.rank && x.metric == u.metric;
            });
            if (q == queue.end()) {
                queue.push_back(Client::QueuedSeries{u.session_id, u.rank, u.metric, {}, 0});
                q = queue.end() - 1;
            }
            if (!rendered[i]) rendered[i] = std::make_shared<const RenderedPoints>(render_points(u.points));
            q->slices.push_back(PointSlice{rendered[i], static_cast<std::size_t>(first_new - u.points.begin()),
                                           u.points.size()});
            q->last_seq = u.points.back().seq;
            c->queued_points += static_cast<std::size_t>(u.points.end() - first_new);
        }
        if (c->queued_points > options_.max_queued_points) {
            // Too far behind: drop the queue; the next flush replays from the store.
            for (auto& [session, sub] : c->subs) {
                sub.queue.clear();
                sub.replay = true;
            }
            c->queued_points = 0;
        }
    }
}

void WebSocketHub::on_run_event(const std::string& kind, const std::string& session_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (kind == "run_deleted") {
        published_.erase(session_id);
        for (const auto& c : clients_) c->subs.erase(session_id);
    }
    for (const auto& c : clients_) c->run_events.emplace_back(kind, session_id);
}

void WebSocketHub::broadcast(const std::string& session_id, std::string json) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& c : clients_)
        if (session_id.empty() || c->subs.count(session_id)) c->messages.push_back(json);
}

}  // namespace trainscope::agent
