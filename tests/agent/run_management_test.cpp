// Proves: the run list pages (newest first, a cursor to the next page, nothing twice or left
// out) and filters by name and status; DELETE /api/runs/{id} removes a run from every
// endpoint, refuses a live one (409) and gives the space back (the file shrinks); retention
// deletes exactly the oldest ended runs, never a live one, and says so once per run.
#include <sqlite3.h>
#include <sys/stat.h>

#include <sys/wait.h>

#include <algorithm>
#include <ctime>
#include <thread>
#include <set>

#include "agent/agent_harness.hpp"
#include "store/store.hpp"
#include "support/json.hpp"

namespace trainscope::test {
namespace {

using agent::CommitBatch;
using agent::PendingPoint;
using agent::RunUpdate;
using agent::Store;

/// Writes `count` ended runs "run-000".. straight into the database (started 1 s apart, the
/// newest last), each with `points` points of one series; returns their ids oldest first.
std::vector<std::string> seed_runs(const std::string& db_path, int count, int points, double ended_days_ago = 0) {
    Store store(db_path);
    std::vector<std::string> ids;
    double now_ms = static_cast<double>(std::time(nullptr)) * 1000.0;
    for (int i = 0; i < count; ++i) {
        char id[32], name[32];
        std::snprintf(id, sizeof id, "01SEEDRUN%06d", i);
        std::snprintf(name, sizeof name, "%s-%03d", i % 2 ? "Odd" : "even", i);
        double started = now_ms - ended_days_ago * 86'400'000.0 - (count - i) * 1000.0;
        store.register_run(id, name, "host", 1, started);
        CommitBatch batch;
        std::int64_t series = store.series_id(id, 0, "train/loss");
        for (int p = 0; p < points; ++p)
            batch.points.push_back(PendingPoint{series, p, static_cast<std::int64_t>(started * 1000) + p, 1.0 / (p + 1)});
        batch.runs.push_back(RunUpdate{id, i % 3 == 0 ? "failed" : "finished", "", "", started + 500});
        store.commit(batch);
        ids.push_back(id);
    }
    return ids;
}

std::vector<std::string> ids_of(const rapidjson::Document& page) {
    std::vector<std::string> out;
    for (const auto& run : page["runs"].GetArray()) out.push_back(run["session_id"].GetString());
    return out;
}

std::int64_t file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

TEST(RunList, PagesNewestFirstWithACursorAndFilters) {
    AgentHarness h;
    std::vector<std::string> oldest_first = seed_runs(h.db_path(), 23, 10);
    ASSERT_TRUE(h.start_agent());

    // Page through 5 at a time: every run once, newest first, then a null cursor.
    std::vector<std::string> seen;
    std::string cursor;
    for (int pages = 0; pages < 10; ++pages) {
        rapidjson::Document page = h.get_json("/api/runs?limit=5" + (cursor.empty() ? "" : "&cursor=" + url_encode(cursor)));
        ASSERT_TRUE(page.IsObject());
        for (const std::string& id : ids_of(page)) seen.push_back(id);
        if (page["next_cursor"].IsNull()) break;
        cursor = page["next_cursor"].GetString();
    }
    std::vector<std::string> newest_first(oldest_first.rbegin(), oldest_first.rend());
    EXPECT_EQ(seen, newest_first);

    // Without limit: all of them, as before.
    EXPECT_EQ(ids_of(h.get_json("/api/runs")), newest_first);

    // Name substring, any case; status; both.
    std::vector<std::string> odd = ids_of(h.get_json("/api/runs?q=odd"));
    EXPECT_EQ(odd.size(), 11u);
    for (const auto& run : h.get_json("/api/runs?q=ODD-0&status=failed")["runs"].GetArray()) {
        EXPECT_EQ(std::string(run["status"].GetString()), "failed");
        EXPECT_NE(std::string(run["name"].GetString()).find("Odd-0"), std::string::npos);
    }
    EXPECT_EQ(ids_of(h.get_json("/api/runs?status=failed")).size(), 8u);  // i = 0, 3, ..., 21
    EXPECT_TRUE(ids_of(h.get_json("/api/runs?q=no-such-name")).empty());

    for (const char* bad : {"/api/runs?limit=0", "/api/runs?limit=1001", "/api/runs?limit=x",
                                   "/api/runs?status=sleeping", "/api/runs?cursor=nonsense",
                                   "/api/runs?cursor=zzzzzzzzzzzzzzzz.X"})
        EXPECT_TRUE(is_json_error_response(h.get(bad), 400, 400)) << bad;
}

TEST(RunDeletion, RemovesARunEverywhereAndShrinksTheFile) {
    AgentHarness h;
    std::vector<std::string> ids = seed_runs(h.db_path(), 3, 200'000);
    ASSERT_TRUE(h.start_agent());
    const std::string& victim = ids[1];
    ASSERT_EQ(h.get("/api/runs/" + victim).status, 200);
    std::int64_t before = file_size(h.db_path());

    HttpResponse deleted = http_request(h.port(), "DELETE", "/api/runs/" + victim);
    ASSERT_EQ(deleted.status, 200) << deleted.body;
    for (const std::string& gone : {"/api/runs/" + victim, "/api/runs/" + victim + "/metrics/train%2Floss",
                                    "/api/runs/" + victim + "/events", "/api/runs/" + victim + "/analytics",
                                    "/api/model-info?session=" + victim})
        EXPECT_EQ(h.get(gone).status, 404) << gone;
    std::vector<std::string> left = ids_of(h.get_json("/api/runs"));
    EXPECT_EQ(left, (std::vector<std::string>{ids[2], ids[0]}));
    // The other runs keep every point.
    EXPECT_EQ(h.run(ids[0])["points"].GetInt64(), 200'000);
    // A third of the points went: the file gives the space back.
    std::int64_t after = file_size(h.db_path());
    EXPECT_LT(after, before - before / 5) << "before " << before << " bytes, after " << after;

    EXPECT_TRUE(is_json_error_response(http_request(h.port(), "DELETE", "/api/runs/" + victim), 404, 404));
}

TEST(RunDeletion, ADatabaseOfAnEarlierAgentIsConvertedOnceAndKeepsEveryPoint) {
    AgentHarness h;
    std::vector<std::string> ids = seed_runs(h.db_path(), 2, 100'000);
    {
        // What agents before this change wrote: no auto-vacuum, so freed pages never left the file.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(h.db_path().c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, "PRAGMA auto_vacuum=NONE; VACUUM;", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    ASSERT_TRUE(h.start_agent());
    EXPECT_EQ(ids_of(h.get_json("/api/runs")), (std::vector<std::string>{ids[1], ids[0]}));
    for (const std::string& id : ids) EXPECT_EQ(h.run(id)["points"].GetInt64(), 100'000) << id;
    rapidjson::Document series = h.get_json("/api/runs/" + ids[0] + "/metrics/train%2Floss?max_points=200000");
    ASSERT_TRUE(series.IsObject());
    EXPECT_EQ(series["points"].Size(), 100'000u);
    // Converted: a deletion now gives its space back.
    std::int64_t before = file_size(h.db_path());
    ASSERT_EQ(http_request(h.port(), "DELETE", "/api/runs/" + ids[0]).status, 200);
    EXPECT_LT(file_size(h.db_path()), before - before / 4);
}

TEST(RunDeletion, ALiveRunIsRefused) {
    AgentHarness h;
    ASSERT_TRUE(h.start_agent());
    ChildProcess& trainer = h.start_producer({"--name", "live", "--steps", "100", "--hold_ms", "5000"});
    std::string id = AgentHarness::session_of(trainer);
    ASSERT_TRUE(h.wait_points(id, 100));
    HttpResponse refused = http_request(h.port(), "DELETE", "/api/runs/" + id);
    EXPECT_TRUE(is_json_error_response(refused, 409, 409)) << refused.body;
    EXPECT_EQ(h.get("/api/runs/" + id).status, 200);
}

TEST(Retention, DeletesOnlyTheOldestEndedRuns) {
    AgentHarness h;
    std::vector<std::string> old_runs = seed_runs(h.db_path(), 3, 100, /*ended_days_ago=*/10);
    ASSERT_TRUE(h.start_agent({"--retain-days=7"}));
    ChildProcess& trainer = h.start_producer({"--name", "recent", "--steps", "100"});
    std::string recent = AgentHarness::session_of(trainer);
    ASSERT_TRUE(h.wait_status(recent, "finished"));
    for (const std::string& id : old_runs)
        ASSERT_TRUE(h.agent().wait_stderr([&](const std::string& line) {
            return line.find("retention: deleted run " + id) != std::string::npos;
        }, 10s)) << id;
    // Checked at start: the three 10-day-old runs are gone, the new one stays.
    EXPECT_EQ(ids_of(h.get_json("/api/runs")), std::vector<std::string>{recent});
    for (const std::string& id : old_runs)
        EXPECT_EQ(h.agent_log_lines_naming("retention: deleted run " + id).size(), 1u) << id;
}

TEST(Retention, ASizeCapDeletesOldestFirst) {
    AgentHarness h;
    // Four runs of ~6 MB each; a 10 MB cap keeps the newest one (or two).
    std::vector<std::string> ids = seed_runs(h.db_path(), 4, 250'000);
    ASSERT_TRUE(h.start_agent({"--max-db-size=10M"}));
    // Checked at start, on the collector thread: wait until it has brought the file under the cap.
    // (Deleting 750,000 points and vacuuming takes seconds on a loaded 2-core machine.)
    for (int i = 0; i < 600 && file_size(h.db_path()) > (10 << 20); ++i) std::this_thread::sleep_for(50ms);
    EXPECT_LE(file_size(h.db_path()), 10 << 20);
    std::vector<std::string> left = ids_of(h.get_json("/api/runs"));
    ASSERT_FALSE(left.empty());
    EXPECT_EQ(left.front(), ids.back()) << "the newest run was deleted";
    // What is left is the newest ones, in order: nothing newer was deleted before an older one.
    std::vector<std::string> newest(ids.rbegin(), ids.rbegin() + static_cast<long>(left.size()));
    EXPECT_EQ(left, newest);
    EXPECT_LT(left.size(), ids.size());
    // Each deletion said so, once (the line follows the vacuum that shrank the file: wait for it).
    for (const std::string& id : ids) {
        bool kept = std::find(left.begin(), left.end(), id) != left.end();
        if (!kept) {
            EXPECT_TRUE(h.agent().wait_stderr([&](const std::string& line) {
                return line.find("retention: deleted run " + id) != std::string::npos;
            }, 10s)) << id;
        }
        EXPECT_EQ(h.agent_log_lines_naming("retention: deleted run " + id).size(), kept ? 0u : 1u) << id;
    }
}

TEST(Retention, RefusesBadOptions) {
    for (const char* bad : {"--retain-days=0", "--retain-days=x", "--max-db-size=10", "--max-db-size=12Q"}) {
        ShmNamespace ns;
        TempDir data("tstest-data");
        ChildProcess agent(TS_AGENT_BIN, {"--port=0", "--namespace=" + ns.name(), "--data-dir=" + data.path(), bad});
        auto status = agent.wait_exit(10s);
        ASSERT_TRUE(status) << bad << ": the agent started anyway";
        EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << bad;
        agent.wait_stderr([](const std::string&) { return false; }, 1s);
        std::string log;
        for (const std::string& line : agent.stderr_lines()) log += line + "\n";
        std::string flag = std::string(bad).substr(0, std::string(bad).find('='));
        EXPECT_NE(log.find(flag + " wants"), std::string::npos) << log;
    }
}

}  // namespace
}  // namespace trainscope::test
