// Proves: no request makes the agent hold its answer. Ten concurrent full-resolution reads
// of a million-point series (about 36 MB of JSON each) raise the agent's peak RSS by less
// than 64 MB in all, because points are streamed in chunks; and subscribes for session ids
// that do not exist keep no state (RSS flat) and leak no connection (open fds flat).
#include <dirent.h>

#include <fstream>
#include <thread>

#include "agent/agent_harness.hpp"
#include "support/json.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

using RequestMemoryTest = AgentProcessTest;

/// A field of /proc/<pid>/status in kB (VmRSS, VmHWM); -1 if missing.
long status_kb(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.compare(0, field.size() + 1, field + ":") == 0) return std::stol(line.substr(field.size() + 1));
    return -1;
}

int open_fds(pid_t pid) {
    int n = 0;
    if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
        while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
        closedir(d);
    }
    return n;
}

TEST_F(RequestMemoryTest, TenHugeSeriesReadsAreStreamedNotHeld) {
    const std::int64_t steps = 1'000'000;
    ChildProcess& trainer = h_.start_producer({"--steps", std::to_string(steps), "--block"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(AgentHarness::done_of(trainer, 120s));
    ASSERT_TRUE(h_.wait_points(id, steps, 120s));
    ASSERT_TRUE(h_.wait_status(id, "finished"));

    pid_t agent = h_.agent().pid();
    long rss_before = status_kb(agent, "VmRSS");
    std::string target = "/api/runs/" + id + "/metrics/t0%2Fm0?max_points=5000000";
    std::vector<HttpResponse> answers(10);
    std::vector<std::thread> readers;
    for (auto& a : answers) readers.emplace_back([&] { a = http_get(h_.port(), target, 120s); });
    for (auto& t : readers) t.join();
    long peak = status_kb(agent, "VmHWM");

    for (const HttpResponse& a : answers) {
        ASSERT_EQ(a.status, 200) << a.error;
        EXPECT_EQ(a.body.size(), answers[0].body.size());
    }
    rapidjson::Document one = parse_json(answers[0].body);
    ASSERT_TRUE(one.IsObject());
    EXPECT_EQ(one["points"].Size(), static_cast<rapidjson::SizeType>(steps));
    EXPECT_EQ(one["total"].GetInt64(), steps);
    EXPECT_FALSE(one["downsampled"].GetBool());
    std::printf("agent RSS before %ld kB, peak after ten reads of %zu bytes each %ld kB\n", rss_before,
                answers[0].body.size(), peak);
    // 64 MB for all ten together: each streams 64 KB chunks and SQLite keeps ~2 MB of cache
    // per connection; holding one answer alone (vector + JSON) took over 100 MB.
    EXPECT_LT(peak - rss_before, 64 * 1024) << "peak " << peak << " kB, before " << rss_before << " kB";
}

TEST_F(RequestMemoryTest, SubscribesToUnknownSessionsKeepNoState) {
    pid_t agent = h_.agent().pid();
    WsClient ws(h_.port());
    ASSERT_TRUE(ws.receive_text());  // hello
    auto subscribe_unknown = [&](int from, int n) {
        const std::string pad(2000, 'x');  // long ids: any state kept per id would show in RSS
        for (int i = from; i < from + n; ++i) {
            ws.send_text("{\"type\":\"subscribe\",\"session_id\":\"nope-" + std::to_string(i) + pad + "\"}");
            auto reply = ws.receive_text();
            ASSERT_TRUE(reply);
            ASSERT_NE(reply->find("unknown session_id"), std::string::npos) << *reply;
        }
    };
    subscribe_unknown(0, 1000);  // warm up allocator and caches
    long rss_before = status_kb(agent, "VmRSS");
    int fds_before = open_fds(agent);
    subscribe_unknown(1000, 20'000);
    long rss_after = status_kb(agent, "VmRSS");
    int fds_after = open_fds(agent);
    std::printf("agent RSS %ld -> %ld kB, open fds %d -> %d over 20,000 subscribes\n", rss_before, rss_after,
                fds_before, fds_after);
    // A descriptor per message would be thousands; the agent's other threads may hold one
    // more or less (a WAL file, a directory scan) at either moment.
    EXPECT_LE(fds_after - fds_before, 2);
    // 20,000 ids of 2 KB: kept per id, they would be 40 MB at least (80 with the hub's copy).
    EXPECT_LT(rss_after - rss_before, 8 * 1024);
}

}  // namespace
}  // namespace trainscope::test
