// Proves: PATCH /api/runs/{id} renames a run, keeps notes and tags, and refuses bad edits with a
// 400 naming the problem (nothing applied); edits survive an agent restart, are searchable
// through GET /api/runs?q=, reach open pages as run_updated, and work on a database made
// before run_meta existed; GET /api/runs/table gives each run's latest and best of the asked
// metrics (min for losses, max otherwise, lowest rank) and its config flattened to "a.b.c";
// a WebSocket hello lists only the newest 200 runs and the total.
#include <sqlite3.h>

#include <cmath>
#include <ctime>
#include <limits>

#include "agent/agent_harness.hpp"
#include "store/store.hpp"
#include "support/json.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {
namespace {

using agent::CommitBatch;
using agent::PendingPoint;
using agent::RunUpdate;
using agent::Store;

struct SeedRun {
    std::string id;
    std::string name;
    std::string config;                       ///< "" for none
    std::vector<double> val_loss;             ///< values of val/loss at rank 0, steps 0..
    std::vector<double> accuracy;             ///< values of val/acc at rank 0
    std::vector<double> val_loss_rank1;       ///< val/loss at rank 1 (the table reads rank 0)
};

/// Writes ended runs straight into the database (as an earlier agent would have), oldest first.
void seed(const std::string& db_path, const std::vector<SeedRun>& runs) {
    Store store(db_path);
    double now_ms = static_cast<double>(std::time(nullptr)) * 1000.0;
    double started = now_ms - 1000.0 * static_cast<double>(runs.size());
    for (const SeedRun& r : runs) {
        store.register_run(r.id, r.name, "seed-host", 1, started);
        CommitBatch batch;
        auto add = [&](int rank, const char* metric, const std::vector<double>& values) {
            if (values.empty()) return;
            std::int64_t series = store.series_id(r.id, rank, metric);
            for (std::size_t i = 0; i < values.size(); ++i)
                batch.points.push_back(PendingPoint{series, static_cast<std::int64_t>(i) * 10,
                                                    static_cast<std::int64_t>(started * 1000) + static_cast<std::int64_t>(i), values[i]});
        };
        add(0, "val/loss", r.val_loss);
        add(0, "val/acc", r.accuracy);
        add(1, "val/loss", r.val_loss_rank1);
        batch.runs.push_back(RunUpdate{r.id, "finished", r.config, "", started + 500});
        store.commit(batch);
        started += 1000.0;
    }
}

HttpResponse patch(const AgentHarness& h, const std::string& id, const std::string& body) {
    return http_request_body(h.port(), "PATCH", "/api/runs/" + id, body);
}

std::vector<std::string> ids_of(const rapidjson::Document& page) {
    std::vector<std::string> out;
    for (const auto& run : page["runs"].GetArray()) out.push_back(run["session_id"].GetString());
    return out;
}

std::vector<std::string> tags_of(const rapidjson::Value& run) {
    std::vector<std::string> out;
    for (const auto& t : run["tags"].GetArray()) out.push_back(t.GetString());
    return out;
}

TEST(RunEdit, BadEditsAreRefusedWithTheirReasonAndChangeNothing) {
    AgentHarness h;
    seed(h.db_path(), {{"01EDITRUN000001", "trainer-name", "", {1.0}, {}, {}}});
    ASSERT_TRUE(h.start_agent());
    const std::string id = "01EDITRUN000001";
    struct Case {
        std::string body;
        std::string says;  ///< a word the error must contain
    };
    const std::vector<Case> cases = {
        {"not json", "not JSON"},
        {"[1,2]", "object"},
        {"{}", "nothing to change"},
        {R"({"colour":"red"})", "colour"},
        {R"({"name":5})", "name must be a string"},
        {"{\"name\":\"" + std::string(201, 'x') + "\"}", "at most 200"},
        {R"({"name":"a\u0001b"})", "control character"},
        {R"({"notes":["x"]})", "notes must be a string"},
        {"{\"notes\":\"" + std::string(10'001, 'n') + "\"}", "at most 10000"},
        {R"({"tags":"a,b"})", "array"},
        {R"({"tags":["ok", "has space"]})", "has space"},
        {R"({"tags":[""]})", "1 to 40"},
        {R"({"tags":[1]})", "array of strings"},
        {R"({"name":"fine","tags":["bad tag"]})", "bad tag"},  // one bad field: nothing applied
    };
    for (const Case& c : cases) {
        HttpResponse r = patch(h, id, c.body);
        EXPECT_TRUE(is_json_error_response(r, 400, 400)) << c.body.substr(0, 80);
        EXPECT_NE(r.body.find(c.says), std::string::npos) << c.body.substr(0, 80) << " -> " << r.body;
    }
    std::string many_tags = "{\"tags\":[";
    for (int i = 0; i < 33; ++i) many_tags += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
    EXPECT_TRUE(is_json_error_response(patch(h, id, many_tags + "]}"), 400, 400));
    EXPECT_TRUE(is_json_error_response(patch(h, "01NOSUCHRUN0000", R"({"name":"x"})"), 404, 404));

    rapidjson::Document run = h.run(id);
    ASSERT_TRUE(run.IsObject());
    EXPECT_STREQ(run["name"].GetString(), "trainer-name");
    EXPECT_STREQ(run["notes"].GetString(), "");
    EXPECT_TRUE(run["tags"].Empty());
}

TEST(RunEdit, EditsPersistAcrossARestartAndAreSearchable) {
    AgentHarness h;
    seed(h.db_path(), {{"01EDITRUN000001", "baseline", "", {1.0}, {}, {}},
                       {"01EDITRUN000002", "other", "", {1.0}, {}, {}}});
    ASSERT_TRUE(h.start_agent());
    const std::string id = "01EDITRUN000001";

    // An open page hears the rename.
    WsClient ws(h.port());
    ASSERT_TRUE(ws.receive_text().has_value());  // hello

    HttpResponse r = patch(h, id, R"({"name":"  Lion  ","notes":"lr warmup\ntoo short","tags":["ablation","lr:3e-4","ablation"]})");
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document answered = parse_json(r.body);
    EXPECT_STREQ(answered["name"].GetString(), "Lion");
    EXPECT_STREQ(answered["original_name"].GetString(), "baseline");
    EXPECT_EQ(tags_of(answered), (std::vector<std::string>{"ablation", "lr:3e-4"}));

    bool heard = false;
    for (int i = 0; i < 20 && !heard; ++i) {
        auto text = ws.receive_text(std::chrono::seconds(5));
        if (!text) break;
        rapidjson::Document m = parse_json(*text);
        heard = string_member(m, "type") == "run_updated" && string_member(m, "session_id") == id &&
                m.HasMember("run") && string_member(m["run"], "name") == "Lion";
    }
    EXPECT_TRUE(heard) << "no run_updated with the new name";

    // Only the fields given change.
    ASSERT_EQ(patch(h, id, R"({"tags":["ablation","keep"]})").status, 200);

    h.kill_agent();
    ASSERT_TRUE(h.start_agent());
    rapidjson::Document run = h.run(id);
    ASSERT_TRUE(run.IsObject());
    EXPECT_STREQ(run["name"].GetString(), "Lion");
    EXPECT_STREQ(run["original_name"].GetString(), "baseline");
    EXPECT_STREQ(run["notes"].GetString(), "lr warmup\ntoo short");
    EXPECT_EQ(tags_of(run), (std::vector<std::string>{"ablation", "keep"}));

    // q looks in the new name, the trainer's name, notes and tags, any case.
    for (const char* q : {"lion", "BASELINE", "warmup", "keep", "ABLAT"})
        EXPECT_EQ(ids_of(h.get_json(std::string("/api/runs?q=") + q)), std::vector<std::string>{id}) << q;
    EXPECT_TRUE(ids_of(h.get_json("/api/runs?q=nowhere")).empty());

    // An empty name goes back to the trainer's.
    ASSERT_EQ(patch(h, id, R"({"name":""})").status, 200);
    EXPECT_STREQ(h.run(id)["name"].GetString(), "baseline");

    // Deleting the run deletes what was said about it.
    ASSERT_EQ(http_request(h.port(), "DELETE", "/api/runs/" + id).status, 200);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(h.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* count = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM run_meta WHERE session_id=?", -1, &count, nullptr), SQLITE_OK);
    sqlite3_bind_text(count, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(count, 0), 0);
    sqlite3_finalize(count);
    sqlite3_close(db);
}

TEST(RunEdit, ADatabaseFromBeforeRunMetaTakesEdits) {
    AgentHarness h;
    seed(h.db_path(), {{"01EDITRUN000001", "old", "", {1.0}, {}, {}}});
    {
        // What an agent before run_meta left: the same tables without it.
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(h.db_path().c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, "DROP TABLE run_meta", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    ASSERT_TRUE(h.start_agent());
    EXPECT_STREQ(h.run("01EDITRUN000001")["name"].GetString(), "old");
    ASSERT_EQ(patch(h, "01EDITRUN000001", R"({"name":"new","tags":["migrated"]})").status, 200);
    EXPECT_EQ(ids_of(h.get_json("/api/runs?q=migrated")), std::vector<std::string>{"01EDITRUN000001"});
}

TEST(RunsTable, LatestAndBestOfTheAskedMetricsAndTheFlattenedConfig) {
    AgentHarness h;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    seed(h.db_path(),
         {{"01TABLERUN00001", "a", R"({"optim":{"lr":0.001,"betas":[0.9,0.99]},"layers":4,"name":"x","empty":{}})",
           {3.0, 1.5, 2.0}, {0.5, 0.9, inf, 0.7}, {0.1}},
          {"01TABLERUN00002", "b", "not json", {nan, 4.0, -inf, nan}, {}, {}},
          {"01TABLERUN00003", "c", "", {}, {}, {}}});
    ASSERT_TRUE(h.start_agent());

    rapidjson::Document t = h.get_json("/api/runs/table?metrics=val/loss,val/acc");
    ASSERT_TRUE(t.IsObject());
    ASSERT_EQ(t["runs"].Size(), 3u);
    EXPECT_STREQ(t["metrics"][0]["best"].GetString(), "min");
    EXPECT_STREQ(t["metrics"][1]["best"].GetString(), "max");
    ASSERT_EQ(t["metric_names"].Size(), 2u);
    EXPECT_STREQ(t["metric_names"][0].GetString(), "val/acc");

    const rapidjson::Value& c = t["runs"][0];  // newest first
    const rapidjson::Value& b = t["runs"][1];
    const rapidjson::Value& a = t["runs"][2];
    EXPECT_STREQ(a["session_id"].GetString(), "01TABLERUN00001");
    // Rank 0's series (rank 1 logged 0.1): latest is the last logged, best the smallest.
    EXPECT_EQ(a["figures"]["val/loss"]["latest"].GetDouble(), 2.0);
    EXPECT_EQ(a["figures"]["val/loss"]["latest_step"].GetInt64(), 20);
    EXPECT_EQ(a["figures"]["val/loss"]["best"].GetDouble(), 1.5);
    EXPECT_EQ(a["figures"]["val/acc"]["best"].GetDouble(), 0.9);  // +Inf is no accuracy
    EXPECT_EQ(a["figures"]["val/acc"]["latest"].GetDouble(), 0.7);
    EXPECT_EQ(a["ranks"].Size(), 2u);
    EXPECT_EQ(a["points"].GetInt64(), 8);
    EXPECT_EQ(a["config"]["optim.lr"].GetDouble(), 0.001);
    EXPECT_EQ(a["config"]["optim.betas"].Size(), 2u);
    EXPECT_EQ(a["config"]["layers"].GetInt(), 4);
    EXPECT_STREQ(a["config"]["name"].GetString(), "x");
    EXPECT_TRUE(a["config"]["empty"].IsObject());
    EXPECT_FALSE(a["config"].HasMember("optim"));
    // A NaN last point is a null latest; the best is the best finite value: NaN and a
    // diverged -Inf are no best loss. A config that is not JSON: none.
    EXPECT_TRUE(b["figures"]["val/loss"]["latest"].IsNull());
    ASSERT_TRUE(b["figures"]["val/loss"]["best"].IsNumber());
    EXPECT_EQ(b["figures"]["val/loss"]["best"].GetDouble(), 4.0);
    EXPECT_FALSE(b["figures"].HasMember("val/acc"));
    EXPECT_EQ(b["config"].MemberCount(), 0u);
    EXPECT_EQ(c["figures"].MemberCount(), 0u);

    // The same q and status filters as the run list; bad parameters are 400s.
    ASSERT_EQ(patch(h, "01TABLERUN00002", R"({"tags":["pick-me"]})").status, 200);
    rapidjson::Document picked = h.get_json("/api/runs/table?q=pick-me");
    ASSERT_EQ(picked["runs"].Size(), 1u);
    EXPECT_STREQ(picked["runs"][0]["tags"][0].GetString(), "pick-me");
    EXPECT_EQ(h.get_json("/api/runs/table?status=crashed")["runs"].Size(), 0u);
    rapidjson::Document limited = h.get_json("/api/runs/table?limit=2");
    EXPECT_EQ(limited["runs"].Size(), 2u);
    EXPECT_TRUE(limited["more"].GetBool());
    for (const char* bad : {"/api/runs/table?limit=0", "/api/runs/table?status=bogus",
                            "/api/runs/table?metrics=a,,b", "/api/runs/table?metrics=1,2,3,4,5,6,7,8,9"})
        EXPECT_TRUE(is_json_error_response(h.get(bad), 400, 400)) << bad;
}

TEST(RunsTable, HelloListsTheNewest200AndTheTotal) {
    AgentHarness h;
    std::vector<SeedRun> runs;
    for (int i = 0; i < 230; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "01HELLORUN%05d", i);
        runs.push_back({id, "run-" + std::to_string(i), "", {}, {}, {}});
    }
    seed(h.db_path(), runs);
    ASSERT_TRUE(h.start_agent());
    WsClient ws(h.port());
    auto text = ws.receive_text();
    ASSERT_TRUE(text.has_value());
    rapidjson::Document hello = parse_json(*text);
    ASSERT_EQ(string_member(hello, "type"), "hello");
    ASSERT_EQ(hello["sessions"].Size(), 200u);
    EXPECT_EQ(hello["total_runs"].GetInt64(), 230);
    EXPECT_STREQ(hello["sessions"][0]["session_id"].GetString(), "01HELLORUN00229");
    EXPECT_STREQ(hello["sessions"][199]["session_id"].GetString(), "01HELLORUN00030");
}

}  // namespace
}  // namespace trainscope::test
