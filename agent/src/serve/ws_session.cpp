// One connected browser: its handler thread reads the client's requests (subscribe,
// unsubscribe, ping) and flushes what the hub queued for it, at most every flush interval.
#include "serve/ws_session.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "serve/client_message.hpp"
#include "serve/http_util.hpp"
#include "serve/json_in.hpp"
#include "serve/ws_client.hpp"
#include "serve/ws_messages.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

using Poco::Net::WebSocket;

namespace {

/// Marks a client busy sending for as long as it lives, for the watchdog.
class BusyScope {
public:
    explicit BusyScope(std::atomic<std::int64_t>& since) : since_(since) { since_ = steady_ms(); }
    ~BusyScope() { since_ = 0; }

private:
    std::atomic<std::int64_t>& since_;
};

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
            std::unique_ptr<RunReader> reader = hub_.open_reader();
            RunReader& q = *reader;
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

    void serve(WebSocket& ws, WebSocketHub::Client& client, RunReader& q) {
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
    bool receive(WebSocket& ws, WebSocketHub::Client& client, RunReader& q) {
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

    void flush(WebSocket& ws, WebSocketHub::Client& client, RunReader& q) {
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

Poco::Net::HTTPRequestHandler* new_websocket_session(WebSocketHub& hub) { return new WebSocketSession(hub); }

}  // namespace trainscope::agent
