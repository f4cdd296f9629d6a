// The fields of a trainer's config (run.set_config JSON) that plugins use.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>

namespace trainscope::plugins {

struct RunConfig {
    bool loaded = false;                         ///< a config was found and parsed
    std::optional<std::int64_t> max_iters;
    std::optional<std::int64_t> tokens_per_iter;
};

inline std::optional<std::int64_t> int_field(const rapidjson::Value& obj, const char* key) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsNumber()) return std::nullopt;
    double v = it->value.GetDouble();
    if (v < 0 || v > 9.0e18) return std::nullopt;
    return static_cast<std::int64_t>(v);
}

/// Parses config JSON text; an empty or malformed text gives loaded == false.
inline RunConfig parse_run_config(const std::string& json) {
    RunConfig c;
    if (json.empty()) return c;
    rapidjson::Document doc;
    if (doc.Parse(json.c_str()).HasParseError() || !doc.IsObject()) return c;
    c.loaded = true;
    c.max_iters = int_field(doc, "max_iters");
    c.tokens_per_iter = int_field(doc, "tokens_per_iter");
    return c;
}

}  // namespace trainscope::plugins
