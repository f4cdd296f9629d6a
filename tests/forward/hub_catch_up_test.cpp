// WebSocket catch-up on the hub. A client subscribed to a live run stops hearing anything
// while PostgreSQL is down and the node spools; when it is back the node ships its backlog in
// batches of 100,000 points, each pushed to the hub's clients at once, far past a client's
// queue (50,000 points): the client is replayed from PostgreSQL (PgReader::points_since) and
// must still get every point exactly once, numbered 1, 2, 3 ... on the hub's scale with no
// gap. A second hub started afterwards replays the run to a new client with since_seq = 0 and
// numbers every point the same way, and since_seq = K gives exactly the points after K.
// (Checked once with a log line in WebSocketHub::on_points: the client's queue overflowed
// four times in one run, at 100,000, 100,000, 100,000 and 77,572 points.) A paused socket
// would not do: the kernel's buffers take some 10 MB, about 250,000 points, before a flush
// even blocks.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <tuple>

#include "forward/hub_process.hpp"
#include "forward/node_agent.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/postgres_server.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

constexpr long kSteps = 100'000;
constexpr int kMetrics = 4;  // at 12,000 steps/s: 48,000 points/s for about 8 s (--block: a
                            // ring that fills makes the trainer wait, nothing is dropped)

/// Every point a client was sent, by the hub's seq: (metric, step, value).
using Received = std::map<std::int64_t, std::tuple<std::string, std::int64_t, double>>;

/// Reads training_updates of `run` into `got` until it holds `total` points (or time runs
/// out); counts a seq sent twice in `repeats`.
bool receive_all(WsClient& ws, const std::string& run, std::int64_t total, Received& got, int& repeats,
                 std::chrono::milliseconds timeout) {
    return receive_until(ws, [&](const rapidjson::Document& m) {
        if (string_member(m, "type") == "training_update" && string_member(m, "session_id") == run)
            for (const auto& p : m["points"].GetArray()) {
                bool added = got.emplace(p[3].GetInt64(), std::make_tuple(string_member(m, "metric"),
                                                                          p[0].GetInt64(), p[2].GetDouble()))
                                 .second;
                if (!added) ++repeats;
            }
        return static_cast<std::int64_t>(got.size()) >= total;
    }, timeout);
}

void expect_whole_run(const Received& got, std::int64_t total) {
    ASSERT_EQ(static_cast<std::int64_t>(got.size()), total);
    EXPECT_EQ(got.begin()->first, 1);
    EXPECT_EQ(got.rbegin()->first, total) << "hub seqs are not 1..N";
    std::map<std::string, std::int64_t> per_metric;
    for (const auto& [seq, point] : got) {
        const auto& [metric, step, value] = point;
        ++per_metric[metric];
        int m = metric.back() - '0';
        ASSERT_EQ(value, step * 0.5 + m) << metric << " step " << step;
    }
    for (const auto& [metric, n] : per_metric) EXPECT_EQ(n, kSteps) << metric;
}

TEST(HubCatchUp, AClientThatFellBehindIsReplayedExactly) {
    PostgresServer postgres;
    NodeAgent node("node-a", postgres.conninfo());
    ASSERT_TRUE(node.start());
    HubProcess hub(postgres.conninfo());
    ASSERT_NE(hub.port, 0);
    const std::string run = "catchup-" + std::to_string(::getpid());
    ChildProcess& trainer = node.start_trainer(
        run, 0, {"--name", "catchup", "--threads", "1", "--metrics", std::to_string(kMetrics), "--steps",
                 std::to_string(kSteps), "--rate", "12000", "--block"});
    ASSERT_TRUE(trainer.wait_stdout_prefix("session ", 20s));
    ASSERT_TRUE(wait_until([&] { return http_get(hub.port, "/api/runs/" + run).status == 200; }, 20s));

    WsClient ws(hub.port);
    ws.send_text(R"({"type":"subscribe","session_id":")" + run + R"(","since_seq":0})");
    Received got;
    int repeats = 0;
    ASSERT_TRUE(receive_all(ws, run, 1, got, repeats, 20s)) << "no point before the outage";

    // The node spools while PostgreSQL is away; the client hears nothing meanwhile.
    postgres.stop();
    std::this_thread::sleep_for(4s);
    postgres.start();

    auto done = trainer.wait_stdout_prefix("done ", 60s);
    ASSERT_TRUE(done);
    EXPECT_EQ(*done, "0") << "the trainer dropped records";
    const std::int64_t total = kMetrics * kSteps;
    EXPECT_TRUE(receive_all(ws, run, total, got, repeats, 60s))
        << "the client got " << got.size() << " of " << total << " points\n" << hub.output();
    EXPECT_EQ(repeats, 0);
    expect_whole_run(got, total);

    // A hub that was not there replays the same numbering.
    HubProcess second(postgres.conninfo());
    ASSERT_NE(second.port, 0);
    WsClient fresh(second.port);
    fresh.send_text(R"({"type":"subscribe","session_id":")" + run + R"(","since_seq":0})");
    Received replayed;
    int replay_repeats = 0;
    EXPECT_TRUE(receive_all(fresh, run, total, replayed, replay_repeats, 60s));
    EXPECT_EQ(replay_repeats, 0);
    EXPECT_TRUE(replayed == got) << "two hubs numbered the run's points differently";

    // Reconnecting with since_seq = K: exactly the points after K.
    const std::int64_t since = total / 3 + 7;
    WsClient again(second.port);
    again.send_text(R"({"type":"subscribe","session_id":")" + run + R"(","since_seq":)" + std::to_string(since) + "}");
    Received rest;
    int rest_repeats = 0;
    EXPECT_TRUE(receive_all(again, run, total - since, rest, rest_repeats, 60s));
    ASSERT_FALSE(rest.empty());
    EXPECT_EQ(rest.begin()->first, since + 1);
    EXPECT_EQ(rest.rbegin()->first, total);
    EXPECT_EQ(static_cast<std::int64_t>(rest.size()), total - since);
}

}  // namespace
}  // namespace trainscope::test
