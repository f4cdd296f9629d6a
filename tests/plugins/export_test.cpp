// The export plugin served by a real agent: every stored point of a run as CSV and JSON,
// exact values, NaN spelled out, unknown runs refused, the download's file name made safe
// whatever the client asks for, and text cells a spreadsheet would run as a formula guarded.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "plugin_agent_fixture.hpp"
#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {
namespace {

class ExportPluginTest : public PluginAgentTest {
protected:
    /// Runs a trainer to the end and waits until the agent holds all of its points.
    std::string finished_run(const std::vector<std::string>& args) {
        start_agent(TS_PLUGIN_DIR);
        std::string session = run_producer(args);
        EXPECT_FALSE(session.empty());
        EXPECT_TRUE(wait_until([&] {
            auto run = parse_json(http_get(port_, "/api/runs/" + session).body);
            return run.IsObject() && string_member(run, "status") == "finished";
        }));
        return session;
    }

    static std::vector<std::vector<std::string>> csv_rows(const std::string& body) {
        std::vector<std::vector<std::string>> rows;
        std::istringstream in(body);
        for (std::string line; std::getline(in, line);) {
            std::vector<std::string> fields;
            std::istringstream cells(line);
            for (std::string f; std::getline(cells, f, ',');) fields.push_back(f);
            rows.push_back(fields);
        }
        return rows;
    }
};

TEST_F(ExportPluginTest, CsvHoldsEveryPointOfTheTrainerWithExactValues) {
    std::string session = finished_run({"--metrics", "2", "--steps", "400"});
    HttpResponse r = http_get(port_, "/api/runs/" + session + "/export.csv");
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.content_type.rfind("text/csv", 0), 0u) << r.content_type;
    EXPECT_EQ(r.content_disposition, "attachment; filename=\"trainscope-" + session + ".csv\"");

    auto rows = csv_rows(r.body);
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(rows[0], (std::vector<std::string>{"session_id", "metric", "step", "timestamp", "value", "rank"}));
    // The pattern: metric t0/m<m> at step s is s * 0.5 + m. Plugins' derived series are
    // stored in the run too; only the trainer's are checked point by point.
    std::map<std::string, std::vector<bool>> seen = {{"t0/m0", std::vector<bool>(400)}, {"t0/m1", std::vector<bool>(400)}};
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& row = rows[i];
        ASSERT_EQ(row.size(), 6u) << "row " << i;
        EXPECT_EQ(row[0], session);
        EXPECT_EQ(row[3].size(), 24u) << row[3];  // 2026-11-29T15:18:50.123Z
        auto it = seen.find(row[1]);
        if (it == seen.end()) continue;
        int step = std::stoi(row[2]);
        ASSERT_GE(step, 0);
        ASSERT_LT(step, 400);
        EXPECT_FALSE(it->second[step]) << row[1] << " step " << step << " twice";
        it->second[step] = true;
        EXPECT_DOUBLE_EQ(std::stod(row[4]), step * 0.5 + (row[1] == "t0/m1" ? 1 : 0));
        EXPECT_EQ(row[5], "0");
    }
    for (const auto& [metric, steps] : seen)
        for (int s = 0; s < 400; ++s) EXPECT_TRUE(steps[s]) << metric << " step " << s << " missing";
}

TEST_F(ExportPluginTest, NanIsWrittenAsNanInCsvAndNullInJson) {
    std::string session = finished_run({"--loss_only", "--steps", "200", "--nan_at", "150"});
    std::string csv = http_get(port_, "/api/runs/" + session + "/export.csv").body;
    EXPECT_NE(csv.find(",train/loss,150,"), std::string::npos);
    EXPECT_NE(csv.find(",NaN,0\n"), std::string::npos);

    HttpResponse r = http_get(port_, "/api/runs/" + session + "/export.json");
    ASSERT_EQ(r.status, 200);
    auto doc = parse_json(r.body);
    ASSERT_FALSE(doc.HasParseError()) << r.body.substr(0, 200);
    EXPECT_EQ(string_member(doc, "session_id"), session);
    // The run's description comes along: a user's name, notes and tags with the points.
    ASSERT_TRUE(doc.HasMember("run") && doc["run"].IsObject());
    EXPECT_EQ(string_member(doc["run"], "session_id"), session);
    EXPECT_TRUE(doc["run"]["tags"].IsArray());
    EXPECT_TRUE(doc["run"].HasMember("notes"));
    bool found = false;
    for (const auto& s : doc["series"].GetArray()) {
        if (string_member(s, "metric") != "train/loss") continue;
        found = true;
        const auto& points = s["points"].GetArray();
        ASSERT_EQ(points.Size(), 200u);
        EXPECT_EQ(points[149][0].GetInt64(), 149);
        EXPECT_TRUE(points[149][2].IsNumber());
        EXPECT_TRUE(points[150][2].IsNull());
    }
    EXPECT_TRUE(found);
}

TEST_F(ExportPluginTest, FormulaLikeTextCellsAreGuardedAndValuesStayNumbers) {
    // Metric names a spreadsheet would run as formulas, with negative, NaN and infinite
    // values: the name cell gets a leading ', the value cell stays a number.
    std::string session = finished_run({"--steps", "0", "--series", "=1+2:-1.5,nan,inf,-inf", "--series",
                                        "+cmd:-2", "--series", "-x:-3e-05", "--series", "@SUM(A1):-0.25",
                                        "--series", "\tx:1", "--series", "plain-name:-7", "--series",
                                        "=A1,\"B\":5", "--series", "\r=1:6"});
    HttpResponse r = http_get(port_, "/api/runs/" + session + "/export.csv");
    ASSERT_EQ(r.status, 200) << r.error;

    std::map<std::string, std::vector<std::string>> values;  // metric cell -> value cells by step
    for (const auto& row : csv_rows(r.body)) {
        if (row.size() != 6 || row[0] == "session_id") continue;
        EXPECT_EQ(row[0], session);  // a plain id is left as it is
        values[row[1]].push_back(row[4]);
    }
    EXPECT_EQ(values["'=1+2"], (std::vector<std::string>{"-1.5", "NaN", "Infinity", "-Infinity"}));
    EXPECT_EQ(values["'+cmd"], (std::vector<std::string>{"-2"}));
    EXPECT_EQ(values["'-x"], (std::vector<std::string>{"-3.0000000000000001e-05"}));
    EXPECT_EQ(values["'@SUM(A1)"], (std::vector<std::string>{"-0.25"}));
    EXPECT_EQ(values["'\tx"], (std::vector<std::string>{"1"}));
    EXPECT_EQ(values["plain-name"], (std::vector<std::string>{"-7"}));  // '-' inside is harmless
    for (const char* raw : {"=1+2", "+cmd", "-x", "@SUM(A1)", "\tx"})
        EXPECT_EQ(values.count(raw), 0u) << raw << " was written unguarded";
    // Guarded and then quoted as CSV requires (a comma, a quote, a CR).
    EXPECT_NE(r.body.find("," + std::string("\"'=A1,\"\"B\"\"\"") + ",0,"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(",\"'\r=1\",0,"), std::string::npos);

    // JSON is not a spreadsheet: its names are the trainer's, untouched.
    auto doc = parse_json(http_get(port_, "/api/runs/" + session + "/export.json").body);
    ASSERT_TRUE(doc.IsObject());
    std::vector<std::string> names;
    for (const auto& series : doc["series"].GetArray()) names.push_back(string_member(series, "metric"));
    EXPECT_NE(std::find(names.begin(), names.end(), "=1+2"), names.end());
}

TEST_F(ExportPluginTest, JsonCarriesTheUsersNameNotesAndTags) {
    std::string session = finished_run({"--loss_only", "--steps", "10"});
    HttpResponse edited = http_request_body(port_, "PATCH", "/api/runs/" + session,
                                            R"({"name":"renamed","notes":"see ticket 7","tags":["keep","lr:1e-3"]})");
    ASSERT_EQ(edited.status, 200) << edited.body;
    auto doc = parse_json(http_get(port_, "/api/runs/" + session + "/export.json").body);
    ASSERT_TRUE(doc.IsObject() && doc["run"].IsObject());
    EXPECT_EQ(string_member(doc["run"], "name"), "renamed");
    EXPECT_FALSE(string_member(doc["run"], "original_name").empty());
    EXPECT_EQ(string_member(doc["run"], "notes"), "see ticket 7");
    ASSERT_EQ(doc["run"]["tags"].Size(), 2u);
    EXPECT_STREQ(doc["run"]["tags"][1].GetString(), "lr:1e-3");
}

TEST_F(ExportPluginTest, FileNameIsTheAskedOneMadeSafe) {
    std::string session = finished_run({"--loss_only", "--steps", "10"});
    auto name_for = [&](const std::string& ext, const std::string& asked) {
        return http_get(port_, "/api/runs/" + session + "/export." + ext + "?filename=" + url_encode(asked))
            .content_disposition;
    };
    EXPECT_EQ(name_for("csv", "my-run-20261129-101500.csv"), "attachment; filename=\"my-run-20261129-101500.csv\"");
    EXPECT_EQ(name_for("csv", "my run"), "attachment; filename=\"my_run.csv\"");
    EXPECT_EQ(name_for("json", "../../etc/passwd"), "attachment; filename=\"_.._etc_passwd.json\"");
    EXPECT_EQ(name_for("csv", "a\"b\r\nSet-Cookie: x"), "attachment; filename=\"a_b__Set-Cookie__x.csv\"");
    EXPECT_EQ(name_for("csv", "..."), "attachment; filename=\"trainscope-" + session + ".csv\"");
}

TEST_F(ExportPluginTest, UnknownRunIsAJsonNotFound) {
    start_agent(TS_PLUGIN_DIR);
    EXPECT_TRUE(is_json_error_response(http_get(port_, "/api/runs/NO_SUCH_RUN/export.csv"), 404, 404));
    EXPECT_TRUE(is_json_error_response(http_get(port_, "/api/runs/NO_SUCH_RUN/export.json"), 404, 404));
}

}  // namespace
}  // namespace trainscope::test
