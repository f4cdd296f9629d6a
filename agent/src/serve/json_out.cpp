#include "serve/json_out.hpp"

#include <algorithm>

namespace trainscope::agent {

namespace {

/// One point of a training_update: [step, t_ms, value, seq].
void write_point(JsonOut& w, const StoredPoint& p) {
    w.StartArray();
    w.Int64(p.step);
    write_ms(w, p.t_ms);
    write_number(w, p.value);
    w.Int64(p.seq);
    w.EndArray();
}

}  // namespace

void write_run(JsonOut& w, const RunInfo& run, std::uint64_t live_dropped) {
    w.StartObject();
    write_run_fields(w, run, live_dropped);
    w.EndObject();
}

void write_run_fields(JsonOut& w, const RunInfo& run, std::uint64_t live_dropped) {
    w.Key("session_id"); write_string(w, run.session_id);
    w.Key("name"); write_string(w, run.name);
    w.Key("original_name"); write_string(w, run.original_name);
    w.Key("notes"); write_string(w, run.notes);
    w.Key("tags");
    w.StartArray();
    for (const std::string& t : run.tags) write_string(w, t);
    w.EndArray();
    w.Key("status"); write_string(w, run.status);
    w.Key("host"); write_string(w, run.host);
    w.Key("pid"); w.Int64(run.pid);
    w.Key("started_ms"); write_ms(w, run.started_ms);
    w.Key("ended_ms");
    if (run.ended_ms > 0) write_ms(w, run.ended_ms); else w.Null();
    w.Key("last_ms");
    if (run.last_ms > 0) write_ms(w, run.last_ms); else w.Null();
    double end = run.ended_ms > 0 ? run.ended_ms : std::max(run.last_ms, run.started_ms);
    w.Key("duration_ms"); write_ms(w, end - run.started_ms);
    w.Key("points"); w.Int64(run.points);
    w.Key("last_seq"); w.Int64(run.last_seq);
    // The live count from the segment can be ahead of the last stored one.
    w.Key("dropped"); w.Int64(std::max<std::int64_t>(run.dropped, static_cast<std::int64_t>(live_dropped)));
    w.Key("ranks");
    w.StartArray();
    for (int r : run.ranks) w.Int(r);
    w.EndArray();
    w.Key("metrics");
    w.StartArray();
    for (const std::string& m : run.metrics) write_string(w, m);
    w.EndArray();
}

std::string training_update_json(const SeriesUpdate& u, std::size_t begin, std::size_t end,
                                 std::int64_t watermark, bool more) {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("type"); w.String("training_update");
    w.Key("session_id"); write_string(w, u.session_id);
    w.Key("rank"); w.Int(u.rank);
    w.Key("metric"); write_string(w, u.metric);
    w.Key("points");
    w.StartArray();
    for (std::size_t i = begin; i < end; ++i) write_point(w, u.points[i]);
    w.EndArray();
    w.Key("seq"); w.Int64(watermark);
    if (more) { w.Key("more"); w.Bool(true); }
    w.EndObject();
    return buf.GetString();
}

RenderedPoints render_points(const std::vector<StoredPoint>& points) {
    RenderedPoints out;
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    out.begins.reserve(points.size());
    out.ends.reserve(points.size());
    out.seqs.reserve(points.size());
    w.StartArray();  // the writer puts the commas; each point's range leaves its comma out
    for (const StoredPoint& p : points) {
        out.begins.push_back(static_cast<std::uint32_t>(buf.GetSize() + (out.seqs.empty() ? 0 : 1)));
        write_point(w, p);
        out.ends.push_back(static_cast<std::uint32_t>(buf.GetSize()));
        out.seqs.push_back(p.seq);
    }
    out.text.assign(buf.GetString(), buf.GetSize());
    return out;
}

std::string training_update_json(const std::string& session_id, int rank, const std::string& metric,
                                 const std::vector<PointSlice>& slices, std::int64_t watermark, bool more) {
    std::string points = "[";
    for (const PointSlice& s : slices) {
        if (s.begin >= s.end) continue;
        if (points.size() > 1) points += ',';
        const RenderedPoints& r = *s.rendered;
        points.append(r.text, r.begins[s.begin], r.ends[s.end - 1] - r.begins[s.begin]);  // inner commas included
    }
    points += ']';
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("type"); w.String("training_update");
    w.Key("session_id"); write_string(w, session_id);
    w.Key("rank"); w.Int(rank);
    w.Key("metric"); write_string(w, metric);
    w.Key("points"); w.RawValue(points.data(), points.size(), rapidjson::kArrayType);
    w.Key("seq"); w.Int64(watermark);
    if (more) { w.Key("more"); w.Bool(true); }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

std::string analytics_message(const std::string& plugin, const std::string& session, const std::string& stats_json) {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("type"); w.String("analytics");
    w.Key("plugin"); write_string(w, plugin);
    w.Key("session_id"); write_string(w, session);
    w.Key("stats"); w.RawValue(stats_json.data(), stats_json.size(), rapidjson::kObjectType);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace trainscope::agent
