#include "ws_hub.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "client_message.hpp"
#include "http_util.hpp"
#include "json_in.hpp"
#include "json_out.hpp"
#include "queries.hpp"

namespace trainscope::agent {

using Poco::Net::WebSocket;

/// A client's state, guarded by the hub's mutex.
struct WebSocketHub::Client {
    /// Live points of one series waiting for the next flush, as slices of shared rendered text.
    struct QueuedSeries {
        std::string session_id;
        int rank = 0;
        std::string metric;
        std::vector<PointSlice> slices;
        std::int64_t last_seq = 0;
    };
    struct Subscription {
        std::int64_t delivered = 0;  ///< every point with seq <= delivered is sent or skipped
        bool replay = false;         ///< send (delivered, newest] from the store first
        std::vector<QueuedSeries> queue;
    };
    std::map<std::string, Subscription> subs;
    std::vector<std::pair<std::string, std::string>> run_events;  ///< (kind, session)
    std::vector<std::string> messages;                            ///< ready-made JSON
    std::size_t queued_points = 0;
    std::atomic<bool> closing{false};
    int fd = -1;                                 ///< the socket, for the watchdog
    std::atomic<std::int64_t> busy_since_ms{0};  ///< when the current flush began; 0 if idle
};

namespace {

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Marks a client busy sending for as long as it lives, for the watchdog.
class BusyScope {
public:
    explicit BusyScope(std::atomic<std::int64_t>& since) : since_(since) { since_ = steady_ms(); }
    ~BusyScope() { since_ = 0; }

private:
    std::atomic<std::int64_t>& since_;
};

std::string run_event_json(Queries& q, const std::string& kind, const std::string& session,
                           const std::map<std::string, std::uint64_t>& dropped) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("type"); write_string(w, kind);
    w.Key("session_id"); write_string(w, session);
    if (auto run = q.run(session)) {
        w.Key("run");
        auto it = dropped.find(session);
        write_run(w, *run, it == dropped.end() ? 0 : it->second);
    }
    w.EndObject();
    return buf.GetString();
}

std::string hello_json(Queries& q, const std::string& version,
                       const std::map<std::string, std::uint64_t>& dropped) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("type"); w.String("hello");
    w.Key("version"); write_string(w, version);
    auto newest = q.newest_session();
    w.Key("session_id");
    if (newest) write_string(w, *newest); else w.Null();
    w.Key("sessions");
    w.StartArray();
    for (const RunInfo& r : q.runs()) {
        auto it = dropped.find(r.session_id);
        write_run(w, r, it == dropped.end() ? 0 : it->second);
    }
    w.EndArray();
    w.EndObject();
    return buf.GetString();
}

std::string simple_json(const char* type, const std::string& key, const std::string& value) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("type"); w.String(type);
    w.Key(key.c_str()); write_string(w, value);
    w.EndObject();
    return buf.GetString();
}

}  // namespace

/// One connected browser: its handler thread reads requests and flushes its queue.
class WebSocketSession : public Poco::Net::HTTPRequestHandler {
public:
    /// Takes one of the hub's client slots (reserved by make_handler) until destroyed.
    explicit WebSocketSession(WebSocketHub& hub) : hub_(hub) {}
    ~WebSocketSession() override { --hub_.slots_; }

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        std::unique_ptr<WebSocket> ws;
        try {
            ws = std::make_unique<WebSocket>(request, response);
        } catch (const Poco::Net::WebSocketException& e) {
            if (!response.sent()) send_error(response, 400, std::string("bad WebSocket handshake: ") + e.message());
            return;
        }
        auto client = std::make_shared<WebSocketHub::Client>();
        client->fd = ws->impl()->sockfd();
        hub_.add(client);
        try {
            // A client that stops reading fills its socket buffer; then sendFrame fails after
            // this timeout and the client is dropped, blocking nobody but this thread.
            ws->setSendTimeout(Poco::Timespan(0, hub_.options_.send_timeout_ms * 1000));
            ws->setReceiveTimeout(Poco::Timespan(5, 0));
            ws->setMaxPayloadSize(static_cast<int>(sizeof buffer_));
            Queries q(hub_.db_path_);
            {
                BusyScope busy(client->busy_since_ms);
                send(*ws, hello_json(q, hub_.version_, hub_.dropped()));
            }
            serve(*ws, *client, q);
        } catch (const std::exception& e) {
            hub_.log_.information("websocket client dropped: %s", std::string(e.what()));
        }
        hub_.remove(client);
        try {
            ws->shutdown();
        } catch (...) {
        }
    }

private:
    /// Whether the socket has input within `wait`. One ppoll(2): Poco 1.11's Socket::poll makes,
    /// fills and closes an epoll instance per call, which at one call per client per flush
    /// interval was a quarter of the agent's CPU under fan-out (perf).
    static bool readable_within(int fd, std::chrono::microseconds wait) {
        pollfd p{fd, POLLIN, 0};
        timespec timeout{static_cast<time_t>(wait.count() / 1'000'000),
                         static_cast<long>(wait.count() % 1'000'000) * 1000};
        int n = ::ppoll(&p, 1, &timeout, nullptr);
        if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        return n > 0;
    }

    void serve(WebSocket& ws, WebSocketHub::Client& client, Queries& q) {
        using Clock = std::chrono::steady_clock;
        auto interval = std::chrono::milliseconds(hub_.options_.flush_interval_ms);
        Clock::time_point next_flush = Clock::now() + interval;
        while (!hub_.stopping_ && !client.closing) {
            auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next_flush - Clock::now());
            if (wait.count() > 0 && readable_within(client.fd, wait)) {
                if (!receive(ws, client, q)) return;
                continue;
            }
            if (Clock::now() >= next_flush) {
                flush(ws, client, q);
                next_flush = Clock::now() + interval;
            }
        }
    }

    /// Handles one incoming frame; false when the peer closed.
    bool receive(WebSocket& ws, WebSocketHub::Client& client, Queries& q) {
        int flags = 0;
        int n = 0;
        try {
            n = ws.receiveFrame(buffer_, sizeof buffer_, flags);
        } catch (const Poco::Net::WebSocketException& e) {
            if (e.code() != WebSocket::WS_ERR_PAYLOAD_TOO_BIG) throw;
            // The rest of the frame is still unread, so the connection cannot go on: say
            // why, then close with 1009 (message too big).
            send(ws, simple_json("error", "error", "message is over the size limit of " +
                                                       std::to_string(sizeof buffer_) + " bytes"));
            ws.shutdown(WebSocket::WS_PAYLOAD_TOO_BIG, "message too big");
            return false;
        }
        int op = flags & WebSocket::FRAME_OP_BITMASK;
        if (n == 0 && flags == 0) return false;
        if (op == WebSocket::FRAME_OP_CLOSE) {
            ws.sendFrame(nullptr, 0, WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_CLOSE);
            return false;
        }
        if (op == WebSocket::FRAME_OP_PING) {
            ws.sendFrame(buffer_, n, WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_PONG);
            return true;
        }
        if (op != WebSocket::FRAME_OP_TEXT) return true;
        ClientMessage m = parse_client_message(buffer_, static_cast<std::size_t>(n));
        switch (m.type) {
            case ClientMessage::Type::subscribe:
                if (!hub_.subscribe(client, q, m.session_id, m.since_seq, m.has_since))
                    send(ws, simple_json("error", "error", "subscribe: unknown session_id '" + m.session_id + "'"));
                break;
            case ClientMessage::Type::unsubscribe:
                hub_.unsubscribe(client, m.session_id);
                break;
            case ClientMessage::Type::ping:
                send(ws, "{\"type\":\"pong\"}");
                break;
            case ClientMessage::Type::invalid:
                send(ws, simple_json("error", "error", m.error));
                break;
        }
        return true;
    }

    struct Job {
        std::string session;
        bool replay = false;
        std::int64_t since = 0, upto = 0;
        std::vector<WebSocketHub::Client::QueuedSeries> live;
    };

    void flush(WebSocket& ws, WebSocketHub::Client& client, Queries& q) {
        std::vector<Job> jobs;
        std::vector<std::pair<std::string, std::string>> run_events;
        std::vector<std::string> messages;
        {
            std::lock_guard<std::mutex> lock(hub_.mutex_);
            run_events.swap(client.run_events);
            messages.swap(client.messages);
            for (auto& [session, sub] : client.subs) {
                if (sub.replay) {
                    Job job{session, true, sub.delivered, 0, {}};
                    auto it = hub_.published_.find(session);
                    job.upto = it == hub_.published_.end() ? sub.delivered : it->second;
                    sub.replay = false;
                    sub.queue.clear();
                    sub.delivered = std::max(sub.delivered, job.upto);
                    if (job.upto > job.since) jobs.push_back(std::move(job));
                } else if (!sub.queue.empty()) {
                    Job job{session, false, 0, 0, std::move(sub.queue)};
                    sub.queue.clear();
                    for (const auto& u : job.live) sub.delivered = std::max(sub.delivered, u.last_seq);
                    job.upto = sub.delivered;
                    jobs.push_back(std::move(job));
                }
            }
            client.queued_points = 0;
        }
        if (run_events.empty() && messages.empty() && jobs.empty()) return;
        BusyScope busy(client.busy_since_ms);
        auto dropped = run_events.empty() ? std::map<std::string, std::uint64_t>{} : hub_.dropped();
        for (const auto& [kind, session] : run_events) send(ws, run_event_json(q, kind, session, dropped));
        for (const std::string& m : messages) send(ws, m);
        for (Job& job : jobs) {
            if (!job.replay) {
                send_live(ws, job.live, job.upto);
                continue;
            }
            // Replay in slices so a long gap never builds one huge message or vector.
            const std::int64_t slice = 50'000;
            for (std::int64_t from = job.since; from < job.upto; from += slice) {
                std::int64_t to = std::min(job.upto, from + slice);
                send_updates(ws, q.points_since(job.session, from, to), to, to == job.upto);
            }
        }
    }

    /// Sends queued live points, at most max_points_per_message per message; only the very last
    /// message lacks the `more` flag.
    void send_live(WebSocket& ws, const std::vector<WebSocketHub::Client::QueuedSeries>& queue,
                   std::int64_t watermark) {
        std::size_t per = hub_.options_.max_points_per_message;
        for (std::size_t q = 0; q < queue.size(); ++q) {
            const auto& series = queue[q];
            std::vector<PointSlice> message;
            std::size_t count = 0;
            auto send_message = [&](bool final_series_end) {
                bool final_message = final_series_end && q + 1 == queue.size();
                send(ws, training_update_json(series.session_id, series.rank, series.metric, message, watermark,
                                              !final_message));
                message.clear();
                count = 0;
            };
            for (std::size_t s = 0; s < series.slices.size(); ++s) {
                PointSlice rest = series.slices[s];
                while (rest.begin < rest.end) {
                    std::size_t take = std::min(rest.end - rest.begin, per - count);
                    message.push_back(PointSlice{rest.rendered, rest.begin, rest.begin + take});
                    rest.begin += take;
                    count += take;
                    bool at_end = rest.begin == rest.end && s + 1 == series.slices.size();
                    if (count == per || at_end) send_message(at_end);
                }
            }
        }
    }

    /// Sends updates; only the very last message (when `last`) lacks the `more` flag.
    void send_updates(WebSocket& ws, const std::vector<SeriesUpdate>& updates, std::int64_t watermark,
                      bool last) {
        std::size_t per = hub_.options_.max_points_per_message;
        for (std::size_t u = 0; u < updates.size(); ++u) {
            const SeriesUpdate& up = updates[u];
            for (std::size_t b = 0; b < up.points.size(); b += per) {
                std::size_t e = std::min(up.points.size(), b + per);
                bool final_message = last && u + 1 == updates.size() && e == up.points.size();
                send(ws, training_update_json(up, b, e, watermark, !final_message));
            }
        }
    }

    static void send(WebSocket& ws, const std::string& text) {
        ws.sendFrame(text.data(), static_cast<int>(text.size()),
                     WebSocket::FRAME_FLAG_FIN | WebSocket::FRAME_OP_TEXT);
    }

    WebSocketHub& hub_;
    char buffer_[kFrameJsonLimits.max_bytes];
};

WebSocketHub::WebSocketHub(std::string db_path, std::string version, Poco::Logger& log,
                           HubOptions options, DroppedFn live_dropped)
    : db_path_(std::move(db_path)),
      version_(std::move(version)),
      live_dropped_(std::move(live_dropped)),
      log_(log),
      options_(options) {}

WebSocketHub::~WebSocketHub() { stop(); }

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
    return new WebSocketSession(*this);
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

bool WebSocketHub::subscribe(Client& c, Queries& q, const std::string& session, std::int64_t since,
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
    for (const auto& c : clients_) c->run_events.emplace_back(kind, session_id);
}

void WebSocketHub::broadcast(const std::string& session_id, std::string json) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& c : clients_)
        if (session_id.empty() || c->subs.count(session_id)) c->messages.push_back(json);
}

}  // namespace trainscope::agent
