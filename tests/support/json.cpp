#include "support/json.hpp"

#include "support/http_client.hpp"

namespace trainscope::test {

rapidjson::Document parse_json(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str(), text.size());
    return doc;
}

::testing::AssertionResult is_error_json(const std::string& text) {
    rapidjson::Document doc = parse_json(text);
    if (doc.HasParseError() || !doc.IsObject())
        return ::testing::AssertionFailure()
               << "not a JSON object: '" << text.substr(0, 200) << "'";
    auto it = doc.FindMember("error");
    if (it == doc.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0)
        return ::testing::AssertionFailure() << "no \"error\" string in " << text.substr(0, 200);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_json_error_response(const HttpResponse& r, int lo, int hi) {
    if (r.status < lo || r.status > hi)
        return ::testing::AssertionFailure()
               << "status " << r.status << " not in [" << lo << ", " << hi << "]"
               << (r.error.empty() ? "" : " (" + r.error + ")") << ", body '"
               << r.body.substr(0, 200) << "'";
    ::testing::AssertionResult json = is_error_json(r.body);
    if (!json)
        return ::testing::AssertionFailure() << "status " << r.status << ", " << json.message();
    return json;
}

std::string string_member(const rapidjson::Value& v, const char* name) {
    if (!v.IsObject()) return "";
    auto it = v.FindMember(name);
    return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

}  // namespace trainscope::test
