#include "agent/producer_pattern.hpp"

#include <vector>

#include "support/json.hpp"

namespace trainscope::test {

namespace {

struct SeriesStats {
    std::int64_t count, distinct, min_step, max_step, wrong_values;
};

SeriesStats stats_of(SqliteReader& db, const SeriesSpan& span) {
    // Values are exactly representable, so SQLite's REAL arithmetic compares them exactly.
    std::string offset = std::to_string(span.thread * 1000 + span.metric);
    std::vector<std::int64_t> r = db.row(
        "SELECT COUNT(*), COUNT(DISTINCT p.step), COALESCE(MIN(p.step), -1), COALESCE(MAX(p.step), "
        "-1), "
        "COALESCE(SUM(CASE WHEN p.value = p.step * 0.5 + " +
            offset +
            " THEN 0 ELSE 1 END), 0) "
            "FROM points p JOIN series s ON s.id = p.series_id WHERE s.session_id = ? AND s.name = "
            "?",
        {span.session_id, pattern_series(span.thread, span.metric)});
    return SeriesStats{r[0], r[1], r[2], r[3], r[4]};
}

::testing::AssertionResult describe(bool ok, const SeriesSpan& span, const SeriesStats& s) {
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << pattern_series(span.thread, span.metric) << " of " << span.session_id
           << " in SQLite: " << s.count << " rows, " << s.distinct << " distinct steps in ["
           << s.min_step << ", " << s.max_step << "], " << s.wrong_values
           << " wrong values; expected " << span.steps << " steps from " << span.first;
}

}  // namespace

std::vector<std::string> PatternShape::args(const std::vector<std::string>& extra) const {
    std::vector<std::string> out{"--threads", std::to_string(threads),
                                 "--metrics", std::to_string(metrics),
                                 "--steps",   std::to_string(steps)};
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

std::string pattern_series(int thread, int metric) {
    return "t" + std::to_string(thread) + "/m" + std::to_string(metric);
}

double pattern_value(int thread, int metric, std::int64_t step) {
    return static_cast<double>(step) * 0.5 + static_cast<double>(thread) * 1000 +
           static_cast<double>(metric);
}

::testing::AssertionResult rest_series_exact(const AgentHarness& h, const SeriesSpan& span) {
    std::string name = pattern_series(span.thread, span.metric);
    std::string target =
        "/api/runs/" + span.session_id + "/metrics/" + url_encode(name) + "?max_points=1000000";
    if (span.rank >= 0) target += "&rank=" + std::to_string(span.rank);
    HttpResponse r = h.get(target);
    if (r.status != 200)
        return ::testing::AssertionFailure()
               << "GET " << target << ": " << r.status << " " << r.body.substr(0, 200);
    rapidjson::Document doc = parse_json(r.body);
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("points") ||
        !doc["points"].IsArray())
        return ::testing::AssertionFailure()
               << "GET " << target << ": unexpected body " << r.body.substr(0, 200);
    if (!doc.HasMember("downsampled") || !doc["downsampled"].IsBool() ||
        doc["downsampled"].GetBool())
        return ::testing::AssertionFailure()
               << "GET " << target << ": downsampled or no \"downsampled\" flag";
    if (!doc.HasMember("total") || !doc["total"].IsInt64() || doc["total"].GetInt64() != span.steps)
        return ::testing::AssertionFailure()
               << "GET " << target << ": \"total\" is not " << span.steps;

    std::vector<bool> seen(static_cast<std::size_t>(span.steps), false);
    std::int64_t bad = 0, dup = 0;
    for (const auto& p : doc["points"].GetArray()) {
        if (!p.IsArray() || p.Size() < 3 || !p[0].IsInt64() || !p[2].IsNumber()) {
            ++bad;
            continue;
        }
        std::int64_t step = p[0].GetInt64();
        std::int64_t i = step - span.first;
        if (i < 0 || i >= span.steps ||
            p[2].GetDouble() != pattern_value(span.thread, span.metric, step)) {
            ++bad;
            continue;
        }
        if (seen[static_cast<std::size_t>(i)]) ++dup;
        seen[static_cast<std::size_t>(i)] = true;
    }
    std::int64_t missing = 0;
    for (bool s : seen) missing += s ? 0 : 1;
    if (bad || dup || missing)
        return ::testing::AssertionFailure()
               << name << " of " << span.session_id << " over REST: " << bad << " wrong, " << dup
               << " duplicate, " << missing << " missing of " << span.steps;
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult db_series_exact(SqliteReader& db, const SeriesSpan& span) {
    SeriesStats s = stats_of(db, span);
    bool ok = s.count == span.steps && s.distinct == span.steps && s.min_step == span.first &&
              s.max_step == span.first + span.steps - 1 && s.wrong_values == 0;
    return describe(ok, span, s);
}

::testing::AssertionResult db_series_prefix(SqliteReader& db, const SeriesSpan& span,
                                            std::int64_t* n) {
    SeriesStats s = stats_of(db, span);
    *n = s.count;
    bool ok =
        s.count == s.distinct && s.wrong_values == 0 &&
        (s.count == 0 || (s.min_step == span.first && s.max_step == span.first + s.count - 1));
    return describe(ok, span, s);
}

void expect_db_complete(const AgentHarness& h, const std::string& session_id,
                        const PatternShape& shape) {
    SqliteReader db(h.db_path());
    EXPECT_EQ(db_points_of(db, session_id), shape.points());
    for (int t = 0; t < shape.threads; ++t)
        for (int m = 0; m < shape.metrics; ++m)
            EXPECT_TRUE(db_series_exact(db, SeriesSpan{session_id, t, m, shape.steps}));
}

void expect_finished_complete(const AgentHarness& h, ChildProcess& trainer,
                              const std::string& session_id, const PatternShape& shape) {
    auto dropped = AgentHarness::done_of(trainer);
    ASSERT_TRUE(dropped) << "the trainer did not finish";
    EXPECT_EQ(*dropped, 0u);
    ASSERT_TRUE(h.wait_status(session_id, "finished", 20s));
    rapidjson::Document run = h.run(session_id);
    ASSERT_TRUE(run.IsObject());
    EXPECT_EQ(run["points"].GetInt64(), shape.points());
    EXPECT_EQ(run["dropped"].GetInt64(), 0);
    expect_db_complete(h, session_id, shape);
}

std::int64_t db_points_of(SqliteReader& db, const std::string& session_id) {
    return db.scalar(
        "SELECT COUNT(*) FROM points p JOIN series s ON s.id = p.series_id WHERE s.session_id = ?",
        {session_id});
}

}  // namespace trainscope::test
