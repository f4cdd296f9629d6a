#include "forward/plugin_output_filter.hpp"

#include <rapidjson/document.h>

namespace trainscope::agent {

bool is_plugin_series(const std::string& series, const std::set<std::string>& plugins) {
    std::size_t slash = series.find('/');
    return slash != std::string::npos && plugins.count(series.substr(0, slash)) > 0;
}

bool is_plugin_alert(const std::string& kind, const std::string& text, const std::set<std::string>& plugins) {
    if (kind != "alert" || plugins.empty()) return false;
    rapidjson::Document doc;
    if (doc.Parse(text.c_str()).HasParseError() || !doc.IsObject()) return false;
    auto it = doc.FindMember("plugin");
    return it != doc.MemberEnd() && it->value.IsString() && plugins.count(it->value.GetString()) > 0;
}

}  // namespace trainscope::agent
