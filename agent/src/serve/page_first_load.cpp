#include "serve/page_first_load.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "serve/json_out.hpp"
#include "serve/run_answers.hpp"

namespace trainscope::agent {

namespace {

/// The page embeds series only up to this many points each; bigger answers it streams.
constexpr int kMaxEmbeddedPoints = 10'000;

bool holds_loss(const std::string& metric) {
    static const std::string loss = "loss";
    return std::search(metric.begin(), metric.end(), loss.begin(), loss.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           }) != metric.end();
}

std::string trimmed(const std::string& s) {
    auto space = [](unsigned char c) { return std::isspace(c) != 0; };
    auto b = std::find_if_not(s.begin(), s.end(), space);
    auto e = std::find_if_not(s.rbegin(), std::string::const_reverse_iterator(b), space).base();
    return std::string(b, e);
}

const std::string* param(const QueryParams& params, const char* key) {
    auto it = params.find(key);
    return it == params.end() ? nullptr : &it->second;
}

/// config.js: parseInt(?max_points=) clamped to 16..100000, else 1000 (strtoll reads the same
/// leading digits parseInt does).
int max_points_of(const QueryParams& params) {
    const std::string* text = param(params, "max_points");
    if (!text) return 1000;
    char* end = nullptr;
    long long value = std::strtoll(text->c_str(), &end, 10);
    if (end == text->c_str()) return 1000;
    return static_cast<int>(std::clamp(value, 16LL, 100'000LL));
}

/// config.js: ?metrics=a,b split at commas, trimmed, empty names dropped.
std::vector<std::string> chosen_metrics(const QueryParams& params) {
    std::vector<std::string> out;
    const std::string* text = param(params, "metrics");
    if (!text) return out;
    std::size_t start = 0;
    while (start <= text->size()) {
        std::size_t comma = std::min(text->find(',', start), text->size());
        std::string name = trimmed(text->substr(start, comma - start));
        if (!name.empty()) out.push_back(name);
        start = comma + 1;
    }
    return out;
}

}  // namespace

std::vector<std::string> shown_by_default(const std::vector<std::string>& metrics,
                                          const std::vector<std::string>& chosen) {
    std::vector<std::string> out;
    if (!chosen.empty()) {
        for (const std::string& m : metrics)
            if (std::find(chosen.begin(), chosen.end(), m) != chosen.end()) out.push_back(m);
        return out;
    }
    for (const std::string& m : metrics)
        if (holds_loss(m)) out.push_back(m);
    if (!out.empty()) return out;
    for (const std::string& m : metrics)
        if (m.rfind("system/", 0) != 0) return {m};
    return out;
}

std::optional<std::string> first_load_json(RunReader& reader, const QueryParams& params,
                                           const std::function<std::uint64_t(const std::string&)>& live_dropped,
                                           std::size_t max_bytes) {
    const std::string* asked = param(params, "run");
    std::string id;
    if (asked && !asked->empty()) {
        id = *asked;
    } else {
        RunReader::RunFilter newest;
        newest.limit = 1;
        RunReader::RunPage page = reader.run_page(newest);
        if (page.runs.empty()) return std::nullopt;
        id = page.runs.front().session_id;
    }
    std::optional<RunInfo> info = reader.run(id);
    if (!info) return std::nullopt;  // ?run= names no run: the page asks, and says so
    std::string run = run_answer(reader, *info, live_dropped(id));

    const int max_points = max_points_of(params);
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("run_id");
    if (asked && !asked->empty()) write_string(w, id); else w.Null();
    w.Key("max_points"); w.Int(max_points);
    w.Key("run"); w.RawValue(run.data(), run.size(), rapidjson::kObjectType);
    w.Key("series");
    w.StartArray();
    bool rank0 = info->ranks.empty() || std::find(info->ranks.begin(), info->ranks.end(), 0) != info->ranks.end();
    if (rank0 && max_points <= kMaxEmbeddedPoints) {
        for (const std::string& metric : shown_by_default(info->metrics, chosen_metrics(params))) {
            if (buf.GetSize() >= max_bytes) break;
            SeriesRequest request;
            request.session_id = id;
            request.metric = metric;
            request.rank = 0;
            request.max_points = static_cast<std::size_t>(max_points);
            rapidjson::StringBuffer answer;
            if (!write_series_answer(reader, request, answer, [] {}, [] {})) continue;
            w.StartObject();
            w.Key("metric"); write_string(w, metric);
            w.Key("rank"); w.Int(0);
            w.Key("answer"); w.RawValue(answer.GetString(), answer.GetSize(), rapidjson::kObjectType);
            w.EndObject();
        }
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string page_with_first_load(const std::string& page, const std::string& json) {
    std::size_t at = page.find(kFirstLoadMarker);
    if (at == std::string::npos) return page;
    std::string script = "<script type=\"application/json\" id=\"trainscope-first-load\">";
    script.reserve(script.size() + json.size() + 16);
    for (char c : json) {
        if (c == '<') script += "\\u003c";
        else script += c;
    }
    script += "</script>";
    std::string out = page;
    out.replace(at, std::char_traits<char>::length(kFirstLoadMarker), script);
    return out;
}

}  // namespace trainscope::agent
