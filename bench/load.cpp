// The load test: a real agent under 10 trainer processes x 10 metrics at 1,000 steps/s each,
// 40 WebSocket clients (5 of them subscribe and never read) and REST reads at 200 requests/s
// (a dashboard's mix, see rest_reader). Prints points stored vs logged (must be exact), what
// each reading client got, trainer -> client latency (p50/p99 over every point the reading
// clients get), REST p50/p99, the agent's CPU and peak RSS, each with its goal.
//
//   load [--seconds 60] [--trainers 10] [--metrics 10] [--rate 1000] [--clients 40]
//        [--stalled 5] [--rest 200] [--watch page|all]
//
// --watch page (default): each reading client watches one run, as a dashboard tab does (the
// page subscribes to the run it shows); the clients are spread evenly over the runs.
// --watch all: every reading client subscribes to every run, ten times a tab's traffic.
// Stalled clients subscribe to every run in both modes (the most they can make the agent hold).
//
// Exit status 1 when a point is lost or stored twice (the counts differ), else 0: latency and
// memory are measurements, reported PASS/MISS against their goals.
//
// Latency: a point's t_ms is stamped by the trainer's coarse wall clock (a kernel tick, 1-4 ms,
// earlier than the call), the client reads CLOCK_REALTIME on arrival: the figures include
// up to one tick too much. Points logged in the first seconds (before every client has
// subscribed and been replayed what it missed) are counted but not timed.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/Buffer.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "load_stats.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using trainscope::test::ChildProcess;
using namespace std::chrono_literals;

namespace {

struct Options {
    int seconds = 60, trainers = 10, metrics = 10, rate = 1000, clients = 40, stalled = 5, rest = 200;
    bool watch_all = false;
};

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", flag.c_str()); std::exit(2); }
        if (flag == "--watch") {
            std::string mode = argv[++i];
            if (mode != "page" && mode != "all") { std::fprintf(stderr, "--watch: page or all\n"); std::exit(2); }
            o.watch_all = mode == "all";
            continue;
        }
        int v = std::atoi(argv[++i]);
        if (flag == "--seconds") o.seconds = v;
        else if (flag == "--trainers") o.trainers = v;
        else if (flag == "--metrics") o.metrics = v;
        else if (flag == "--rate") o.rate = v;
        else if (flag == "--clients") o.clients = v;
        else if (flag == "--stalled") o.stalled = v;
        else if (flag == "--rest") o.rest = v;
        else { std::fprintf(stderr, "unknown flag %s (see the comment at the top of bench/load.cpp)\n", flag.c_str()); std::exit(2); }
    }
    return o;
}

std::string random_token() {
    std::random_device rd;
    std::string t;
    for (int i = 0; i < 32; ++i) t += "0123456789abcdef"[rd() % 16];
    return t;
}

double now_unix_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A trainer's series are named "t0/m<k>" (ts-producer); plugins add others to the same run.
bool trainer_series(const char* name) { return name[0] == 't' && name[1] == '0' && name[2] == '/'; }

struct Shared {
    unsigned short port = 0;
    std::string token;
    double timed_after_ms = 0;  ///< points logged before this are counted, not timed
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<std::string> sessions;  ///< run ids as the trainers print them
};

std::unique_ptr<Poco::Net::WebSocket> connect_ws(Shared& s, Poco::Net::HTTPClientSession& http) {
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, "/ws", Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Authorization", "Bearer " + s.token);
    Poco::Net::HTTPResponse res;
    auto ws = std::make_unique<Poco::Net::WebSocket>(http, req, res);
    ws->setMaxPayloadSize(64 << 20);
    return ws;
}

void send_text(Poco::Net::WebSocket& ws, const std::string& text) {
    ws.sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
}

std::string subscribe_json(const std::string& session) {
    return "{\"type\":\"subscribe\",\"session_id\":\"" + session + "\",\"since_seq\":0}";
}

/// A browser tab: subscribes to the runs it watches as the agent announces them (from the
/// first point on), counts the trainers' points and times each one. Dropped by the agent, it
/// reconnects and resubscribes from the last watermark it was sent, as the page does.
/// `watch`: the index (in the agent's announcement order, the same for every client) of the
/// one run it watches, or -1 for every run.
void reading_client(Shared& s, int watch, LatencyHistogram& hist, std::atomic<std::uint64_t>& received,
                    int& reconnects, std::string& error) {
    int announced = 0;  // run_started messages seen, over reconnects
    std::map<std::string, std::int64_t> watermark;  // session -> every point up to it received
    std::map<std::string, std::int64_t> newest;     // session + metric -> newest seq counted
    while (!s.stop) {
        try {
            Poco::Net::HTTPClientSession http("127.0.0.1", s.port);
            auto ws = connect_ws(s, http);
            for (const auto& [session, seq] : watermark)
                send_text(*ws, "{\"type\":\"subscribe\",\"session_id\":\"" + session + "\",\"since_seq\":" +
                                   std::to_string(seq) + "}");
            Poco::Buffer<char> buf(0);
            while (!s.stop) {
                if (!ws->poll(Poco::Timespan(0, 100'000), Poco::Net::Socket::SELECT_READ)) continue;
                buf.resize(0);
                int flags = 0;
                int n = ws->receiveFrame(buf, flags);
                if (n == 0 && flags == 0) throw std::runtime_error("the agent closed the WebSocket");
                if ((flags & Poco::Net::WebSocket::FRAME_OP_BITMASK) != Poco::Net::WebSocket::FRAME_OP_TEXT) continue;
                double arrived = now_unix_ms();
                buf.append('\0');
                rapidjson::Document doc;
                doc.ParseInsitu(buf.begin());
                if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("type")) continue;
                std::string type = doc["type"].GetString();
                if (type == "run_started") {
                    std::string session = doc["session_id"].GetString();
                    bool mine = watch < 0 || announced == watch;
                    ++announced;
                    if (mine && watermark.emplace(session, 0).second) send_text(*ws, subscribe_json(session));
                } else if (type == "training_update") {
                    if (!doc.HasMember("more")) watermark[doc["session_id"].GetString()] = doc["seq"].GetInt64();
                    if (!trainer_series(doc["metric"].GetString())) continue;
                    // A client dropped mid-flush is replayed from its last watermark: count each point once.
                    std::int64_t& last = newest[std::string(doc["session_id"].GetString()) + "/" + doc["metric"].GetString()];
                    for (const auto& p : doc["points"].GetArray()) {
                        if (p[3].GetInt64() <= last) continue;
                        last = p[3].GetInt64();
                        ++received;
                        double t_ms = p[1].GetDouble();
                        if (t_ms >= s.timed_after_ms) hist.add(arrived - t_ms);
                    }
                }
            }
        } catch (const std::exception& e) {
            if (s.stop) break;
            error = e.what();
            ++reconnects;
            std::this_thread::sleep_for(200ms);
        }
    }
}

/// A browser tab that stopped reading: subscribes to every run, then never reads again.
void stalled_client(Shared& s, std::string& error) {
    try {
        Poco::Net::HTTPClientSession http("127.0.0.1", s.port);
        auto ws = connect_ws(s, http);
        std::vector<std::string> sessions;
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            sessions = s.sessions;
        }
        for (const std::string& id : sessions) send_text(*ws, subscribe_json(id));
        while (!s.stop) std::this_thread::sleep_for(50ms);
    } catch (const std::exception& e) {
        error = e.what();
    }
}

/// REST reads at `per_second`, the mix a dashboard makes: of every ten, one run list, one
/// whole series downsampled to 1,000 points, three newest points (?last=1) and five views of
/// the newest 1,000 steps (a live chart's window).
void rest_reader(Shared& s, int per_second, int metrics, int rate, LatencyHistogram& hist, std::uint64_t& failed) {
    Poco::Net::HTTPClientSession http("127.0.0.1", s.port);
    http.setKeepAlive(true);
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; !s.stop; ++i) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(i * 1'000'000L / per_second));
        std::string session;
        {
            std::lock_guard<std::mutex> lock(s.mutex);
            session = s.sessions[static_cast<std::size_t>(i) % s.sessions.size()];
        }
        std::string series = "/api/runs/" + session + "/metrics/t0%2Fm" + std::to_string(i % metrics);
        auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        long newest_step = static_cast<long>(elapsed * rate);
        std::string target;
        switch (i % 10) {
            case 0: target = "/api/runs"; break;
            case 1: target = series + "?max_points=1000"; break;
            case 2: case 3: case 4: target = series + "?last=1"; break;
            default: target = series + "?from=" + std::to_string(std::max(0L, newest_step - 1000)) + "&max_points=1000";
        }
        auto t0 = std::chrono::steady_clock::now();
        try {
            Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, target, Poco::Net::HTTPMessage::HTTP_1_1);
            req.set("Authorization", "Bearer " + s.token);
            http.sendRequest(req);
            Poco::Net::HTTPResponse res;
            std::istream& body = http.receiveResponse(res);
            std::string ignored((std::istreambuf_iterator<char>(body)), std::istreambuf_iterator<char>());
            if (res.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) ++failed;
        } catch (const std::exception&) {
            ++failed;
            http.reset();
        }
        hist.add(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
}

/// Points of the trainers' series stored in the agent's database.
std::uint64_t stored_points(const std::string& db_path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        throw std::runtime_error("cannot open " + db_path);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM points p JOIN series s ON p.series_id = s.id WHERE s.name GLOB 't0/m*'",
                       -1, &q, nullptr);
    std::uint64_t n = q && sqlite3_step(q) == SQLITE_ROW ? static_cast<std::uint64_t>(sqlite3_column_int64(q, 0)) : 0;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/// Waits until every run is finished, as GET /api/runs says; false on timeout.
bool all_finished(const std::string& db_path, std::size_t runs, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        sqlite3* db = nullptr;
        std::int64_t done = 0;
        if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_stmt* q = nullptr;
            if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'", -1, &q, nullptr) == SQLITE_OK &&
                sqlite3_step(q) == SQLITE_ROW)
                done = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
        sqlite3_close(db);
        if (static_cast<std::size_t>(done) >= runs) return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse_args(argc, argv);
    trainscope::test::TempDir data("tsload");
    Shared s;
    s.token = random_token();
    std::string ns = "tsload-" + std::to_string(::getpid());

    ChildProcess agent(TS_AGENT_BIN, {"--port=0", "--namespace=" + ns, "--data-dir=" + data.path()},
                       {{"TRAINSCOPE_TOKEN", s.token}});
    auto listening = agent.wait_stdout_prefix("trainscope-agent listening on http://127.0.0.1:", 20s);
    if (!listening) { std::fprintf(stderr, "load: the agent did not start\n"); return 2; }
    s.port = static_cast<unsigned short>(std::stoi(*listening));
    std::printf("agent pid %d on port %u; %d trainers x %d metrics at %d steps/s for %d s, %d WebSocket clients (%d never read; "
                "the others watch %s), REST %d/s\n",
                static_cast<int>(agent.pid()), s.port, o.trainers, o.metrics, o.rate, o.seconds, o.clients, o.stalled,
                o.watch_all ? "every run" : "one run each, as a dashboard tab", o.rest);
    std::fflush(stdout);

    // Reading clients first: they subscribe to each run as the agent announces it.
    int reading = o.clients - o.stalled;
    std::vector<LatencyHistogram> client_hist(static_cast<std::size_t>(reading));
    std::vector<std::atomic<std::uint64_t>> client_points(static_cast<std::size_t>(reading));
    std::vector<std::string> client_errors(static_cast<std::size_t>(o.clients));
    std::vector<int> client_reconnects(static_cast<std::size_t>(reading), 0);
    std::vector<std::thread> threads;
    for (int c = 0; c < reading; ++c)
        threads.emplace_back(reading_client, std::ref(s), o.watch_all ? -1 : c % o.trainers, std::ref(client_hist[c]),
                             std::ref(client_points[c]),
                             std::ref(client_reconnects[c]), std::ref(client_errors[c]));
    std::this_thread::sleep_for(500ms);

    ProcessSampler sampler(agent.pid());
    ProcessSampler self(::getpid());  // the clients' own CPU: they share the machine with the agent
    double started_ms = now_unix_ms();
    s.timed_after_ms = started_ms + 3000;
    std::vector<std::unique_ptr<ChildProcess>> trainers;
    long steps = static_cast<long>(o.rate) * o.seconds;
    for (int t = 0; t < o.trainers; ++t)
        trainers.push_back(std::make_unique<ChildProcess>(
            TS_PRODUCER_BIN,
            std::vector<std::string>{"--name", "load-" + std::to_string(t), "--threads", "1", "--metrics",
                                     std::to_string(o.metrics), "--steps", std::to_string(steps), "--rate",
                                     std::to_string(o.rate)},
            ChildProcess::Env{{"TRAINSCOPE_NAMESPACE", ns}, {"TRAINSCOPE_AUTOSTART", "0"}}));
    for (auto& t : trainers) {
        auto id = t->wait_stdout_prefix("session ", 20s);
        if (!id) { std::fprintf(stderr, "load: a trainer did not start\n"); return 2; }
        std::lock_guard<std::mutex> lock(s.mutex);
        s.sessions.push_back(*id);
    }
    for (int c = reading; c < o.clients; ++c) threads.emplace_back(stalled_client, std::ref(s), std::ref(client_errors[c]));
    int rest_threads = std::max(1, o.rest / 50);
    std::vector<LatencyHistogram> rest_hist(static_cast<std::size_t>(rest_threads));
    std::vector<std::uint64_t> rest_failed(static_cast<std::size_t>(rest_threads), 0);
    for (int r = 0; r < rest_threads; ++r)
        threads.emplace_back(rest_reader, std::ref(s), o.rest / rest_threads, o.metrics, o.rate, std::ref(rest_hist[r]),
                             std::ref(rest_failed[r]));

    // Trainers log for o.seconds; meanwhile sample the agent once a second.
    std::uint64_t dropped = 0;
    bool trainers_ok = true;
    for (auto& t : trainers) {
        while (t->running() && !t->wait_stdout_prefix("done ", 1s)) {
            sampler.sample();
            self.sample();
        }
        auto done = t->wait_stdout_prefix("done ", 1s);
        if (!done) trainers_ok = false;
        else dropped += std::stoull(*done);
        t->wait_exit(10s);
    }
    bool finished = all_finished(data.path() + "/trainscope.db", trainers.size(), 60s);
    // The reading clients' backlog: up to 30 s more for every point to reach every client.
    std::uint64_t logged = static_cast<std::uint64_t>(steps) * o.metrics * o.trainers - dropped;
    // What each reading client must get: every point of the runs it watches (with no drops).
    std::uint64_t per_client = o.watch_all ? logged : static_cast<std::uint64_t>(steps) * o.metrics;
    for (auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;) {
        bool all = true;
        for (const auto& n : client_points) all = all && n.load() >= per_client;
        if (all) break;
        std::this_thread::sleep_for(200ms);
    }
    sampler.sample();
    self.sample();
    s.stop = true;
    for (auto& th : threads) th.join();
    ProcessFigures agent_figures = sampler.figures();
    agent.stop(10s);
    int stalled_drops = 0;
    for (const std::string& line : agent.stderr_lines())
        if (line.find("websocket client stalled") != std::string::npos) ++stalled_drops;

    logged += dropped;  // what the trainers logged, dropped or not
    std::uint64_t stored = stored_points(data.path() + "/trainscope.db");
    LatencyHistogram clients_all, rest_all;
    for (auto& h : client_hist) clients_all.merge(h);
    for (auto& h : rest_hist) rest_all.merge(h);
    std::uint64_t rest_errors = 0;
    for (auto f : rest_failed) rest_errors += f;
    std::uint64_t least = reading ? UINT64_MAX : 0, most = 0;
    for (const auto& n : client_points) {
        least = std::min<std::uint64_t>(least, n.load());
        most = std::max<std::uint64_t>(most, n.load());
    }
    int reconnects = 0;
    for (int c = 0; c < reading; ++c) reconnects += client_reconnects[c];
    if (reconnects)
        std::fprintf(stderr, "load: reading clients reconnected %d times (the agent dropped them; last reason seen: %s)\n",
                     reconnects, client_errors[0].c_str());
    bool exact = stored == logged && dropped == 0 && trainers_ok && finished;
    auto verdict = [](bool ok) { return ok ? "PASS" : "MISS"; };
    std::printf("\nSummary (load test, %d s)\n", o.seconds);
    std::printf("  %-44s %-22s %-12s %s\n", "what", "measured", "goal", "verdict");
    std::printf("  %-44s %-22s %-12s %s\n", "points stored / logged (trainer series)",
                (std::to_string(stored) + " / " + std::to_string(logged)).c_str(), "exact", verdict(exact));
    std::printf("  %-44s %-22s %-12s %s\n", "dropped by trainers (ring full)", std::to_string(dropped).c_str(), "0",
                verdict(dropped == 0));
    std::printf("  %-44s %-22s %-12s %s\n", "points each reading client got (min..max)",
                (std::to_string(least) + ".." + std::to_string(most)).c_str(),
                o.watch_all ? "= stored" : ("= " + std::to_string(per_client)).c_str(),
                verdict(least == per_client && most == per_client));
    std::printf("  %-44s %-22s %-12s %s\n", "reading clients dropped by the agent, rejoined",
                (std::to_string(reconnects) + " (" + std::to_string(stalled_drops) + " stalled in the agent's log)").c_str(),
                "0", verdict(reconnects == 0));
    std::printf("  %-44s %-22s %-12s %s\n", "trainer -> client latency p50 / p99",
                (fmt_ms(clients_all.quantile(0.5)) + " / " + fmt_ms(clients_all.quantile(0.99))).c_str(), "p99 <= 100 ms",
                verdict(clients_all.count() > 0 && clients_all.quantile(0.99) <= 100));
    std::printf("  %-44s %-22s %-12s %s\n", "REST p50 / p99 (requests, failed)",
                (fmt_ms(rest_all.quantile(0.5)) + " / " + fmt_ms(rest_all.quantile(0.99)) + " (" +
                 std::to_string(rest_all.count()) + ", " + std::to_string(rest_errors) + ")").c_str(),
                "-", rest_errors == 0 ? "info" : "MISS");
    std::printf("  %-44s %-22s %-12s %s\n", "agent CPU (of one core, over the run)",
                (std::to_string(static_cast<int>(agent_figures.cpu_percent + 0.5)) + " %").c_str(), "-", "info");
    std::printf("  %-44s %-22s %-12s %s\n", "this program's CPU (the 40 clients, REST)",
                (std::to_string(static_cast<int>(self.figures().cpu_percent + 0.5)) + " %").c_str(), "-", "info");
    std::printf("  %-44s %-22s %-12s %s\n", "agent peak RSS (VmHWM)",
                (std::to_string(agent_figures.peak_rss_kb / 1024) + " MB").c_str(), "<= 64 MB",
                verdict(agent_figures.peak_rss_kb <= 64 * 1024));
    std::printf("RESULT load_stored %llu\nRESULT load_logged %llu\nRESULT load_client_p50_ms %.2f\n"
                "RESULT load_client_p99_ms %.2f\nRESULT load_rest_p99_ms %.2f\nRESULT load_agent_cpu_pct %.1f\n"
                "RESULT load_agent_peak_rss_mb %.1f\n",
                static_cast<unsigned long long>(stored), static_cast<unsigned long long>(logged),
                clients_all.quantile(0.5), clients_all.quantile(0.99), rest_all.quantile(0.99), agent_figures.cpu_percent,
                agent_figures.peak_rss_kb / 1024.0);
    return exact ? 0 : 1;
}
