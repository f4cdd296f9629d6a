#include "serve/run_answers.hpp"

#include <rapidjson/document.h>

#include "serve/json_in.hpp"
#include "serve/json_out.hpp"

namespace trainscope::agent {

std::optional<std::string> run_answer(RunReader& reader, const std::string& id, std::uint64_t live_dropped) {
    auto run = reader.run(id);
    if (!run) return std::nullopt;
    return run_answer(reader, *run, live_dropped);
}

std::string run_answer(RunReader& reader, const RunInfo& run, std::uint64_t live_dropped) {
    const std::string& id = run.session_id;
    // The trainer's config as parsed JSON when it is a valid object, else why not.
    std::string config = reader.run_text(id, "config").value_or("");
    rapidjson::Document doc;
    std::string problem = config.empty() ? "" : parse_json(doc, config, kConfigJsonLimits);
    if (problem.empty() && !config.empty() && !doc.IsObject()) problem = "is not a JSON object";
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    write_run_fields(w, run, live_dropped);
    w.Key("config");
    if (config.empty()) {
        w.Null();
    } else if (problem.empty()) {
        w.RawValue(config.data(), config.size(), rapidjson::kObjectType);  // stored JSON, checked above
    } else {
        w.StartObject();
        w.Key("error"); write_string(w, "config " + problem);
        w.EndObject();
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

bool write_series_answer(RunReader& reader, const SeriesRequest& request, rapidjson::StringBuffer& buf,
                         const std::function<void()>& started, const std::function<void()>& chunk) {
    constexpr std::size_t kChunkBytes = 64 * 1024;
    JsonOut w(buf);
    auto head = [&](const SeriesResult&) {
        started();
        w.StartObject();
        w.Key("session_id"); write_string(w, request.session_id);
        w.Key("metric"); write_string(w, request.metric);
        w.Key("points");
        w.StartArray();
    };
    auto point = [&](const StoredPoint& p) {
        w.StartArray();
        w.Int64(p.step);
        write_ms(w, p.t_ms);
        write_number(w, p.value);
        w.EndArray();
        if (buf.GetSize() >= kChunkBytes) chunk();
    };
    SeriesResult s = reader.series(request, head, point);
    if (!s.found) return false;
    w.EndArray();
    w.Key("rank"); w.Int(s.rank);
    w.Key("downsampled"); w.Bool(s.downsampled);
    w.Key("total"); w.Int64(s.total);
    w.Key("seq"); w.Int64(s.seq);
    w.EndObject();
    return true;
}

}  // namespace trainscope::agent
