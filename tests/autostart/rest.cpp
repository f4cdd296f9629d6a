#include "autostart/rest.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "support/http_client.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"

namespace trainscope::test {

namespace {

std::string to_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return std::string(buf.GetString(), buf.GetSize()).substr(0, 400);
}

std::int64_t int_member(const rapidjson::Value& v, const char* name) {
    auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

}  // namespace

rapidjson::Document get_json(unsigned short port, const std::string& target) {
    HttpResponse r = http_get(port, target, 5s);
    rapidjson::Document doc;
    if (r.status == 200) doc = parse_json(r.body);
    if (r.status != 200 || doc.HasParseError()) doc.SetNull();
    return doc;
}

::testing::AssertionResult wait_run(unsigned short port, const std::string& session_id,
                                    const std::function<bool(const rapidjson::Value&)>& ok,
                                    const std::string& what, std::chrono::milliseconds timeout) {
    rapidjson::Document last;
    if (wait_until([&] {
            last = get_json(port, "/api/runs/" + session_id);
            return last.IsObject() && ok(last);
        },
                   timeout, 50ms))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "run " << session_id << " is not " << what << " after "
                                         << timeout.count() << " ms; last: " << to_text(last);
}

::testing::AssertionResult wait_run_stored(unsigned short port, const std::string& session_id,
                                           const std::string& status, std::int64_t points,
                                           std::chrono::milliseconds timeout) {
    return wait_run(
        port, session_id,
        [&](const rapidjson::Value& run) {
            return string_member(run, "status") == status && int_member(run, "points") == points;
        },
        status + " with " + std::to_string(points) + " points", timeout);
}

std::vector<std::int64_t> int_array(const rapidjson::Value& v, const char* name) {
    std::vector<std::int64_t> out;
    if (!v.IsObject()) return out;
    auto it = v.FindMember(name);
    if (it == v.MemberEnd() || !it->value.IsArray()) return out;
    for (const auto& x : it->value.GetArray()) out.push_back(x.IsInt64() ? x.GetInt64() : -1);
    return out;
}

::testing::AssertionResult series_is(unsigned short port, const std::string& session_id,
                                     int query_rank, int expect_rank, const RankSeries& want) {
    std::string target = "/api/runs/" + session_id + "/metrics/" +
                         url_encode("t0/m" + std::to_string(want.metric)) + "?max_points=100000";
    if (query_rank >= 0) target += "&rank=" + std::to_string(query_rank);
    rapidjson::Document doc = get_json(port, target);
    if (!doc.IsObject() || !doc.HasMember("points") || !doc["points"].IsArray())
        return ::testing::AssertionFailure() << "GET " << target << ": no series";
    if (int_member(doc, "rank") != expect_rank)
        return ::testing::AssertionFailure() << "GET " << target << ": rank "
                                             << int_member(doc, "rank") << ", not " << expect_rank;
    if (!doc.HasMember("downsampled") || !doc["downsampled"].IsBool() || doc["downsampled"].GetBool() ||
        int_member(doc, "total") != want.steps)
        return ::testing::AssertionFailure() << "GET " << target << ": total " << int_member(doc, "total")
                                             << " (downsampled?), not " << want.steps;
    std::vector<int> seen(static_cast<std::size_t>(want.steps), 0);
    std::int64_t wrong = 0;
    for (const auto& p : doc["points"].GetArray()) {
        bool shaped = p.IsArray() && p.Size() >= 3 && p[0].IsInt64() && p[2].IsNumber();
        std::int64_t step = shaped ? p[0].GetInt64() : -1;
        if (step < 0 || step >= want.steps ||
            p[2].GetDouble() != static_cast<double>(step) * 0.5 + want.metric + want.offset) {
            ++wrong;
            continue;
        }
        ++seen[static_cast<std::size_t>(step)];
    }
    std::int64_t missing = 0, duplicate = 0;
    for (int n : seen) {
        missing += n == 0;
        duplicate += n > 1 ? n - 1 : 0;
    }
    if (wrong || missing || duplicate)
        return ::testing::AssertionFailure() << "GET " << target << ": " << wrong << " wrong, "
                                             << missing << " missing, " << duplicate
                                             << " duplicate of " << want.steps << " points";
    return ::testing::AssertionSuccess();
}

}  // namespace trainscope::test
