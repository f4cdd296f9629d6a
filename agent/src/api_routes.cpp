// REST routes under /api (see README "Interfaces").
#include <Poco/URI.h>
#include <rapidjson/document.h>

#include <map>

#include "collector.hpp"
#include "plugin_host.hpp"
#include "http_server.hpp"
#include "http_util.hpp"
#include "json_in.hpp"
#include "json_out.hpp"
#include "model_info.hpp"
#include "queries.hpp"
#include "series_params.hpp"

namespace trainscope::agent {

namespace {

using Params = QueryParams;

Params query_params(const Poco::Net::HTTPServerRequest& request) {
    return parse_query_params(request.getURI());
}

std::map<std::string, std::uint64_t> live_dropped(const AgentContext& ctx) {
    return ctx.collector ? ctx.collector->live_dropped() : std::map<std::string, std::uint64_t>{};
}

void list_runs(const AgentContext& ctx, Poco::Net::HTTPServerResponse& response) {
    Queries q(ctx.db_path);
    auto dropped = live_dropped(ctx);
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("runs");
    w.StartArray();
    for (const RunInfo& run : q.runs()) write_run(w, run, dropped[run.session_id]);
    w.EndArray();
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

void get_run(const AgentContext& ctx, const std::string& id, Poco::Net::HTTPServerResponse& response) {
    Queries q(ctx.db_path);
    auto run = q.run(id);
    if (!run) throw HttpError{404, "unknown run: " + id};
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_run(w, *run, live_dropped(ctx)[id]);
    std::string body = buf.GetString();
    // Add the trainer's config as parsed JSON when it is valid, else as a string.
    std::string config = q.run_text(id, "config").value_or("");
    rapidjson::Document doc;
    std::string problem = config.empty() ? "" : parse_json(doc, config, kConfigJsonLimits);
    if (problem.empty() && !config.empty() && !doc.IsObject()) problem = "is not a JSON object";
    body.pop_back();
    body += ",\"config\":";
    if (config.empty()) body += "null";
    else if (problem.empty()) body += config;
    else body += error_json("config " + problem);
    body += "}";
    send_json(response, 200, body);
}

void get_series(const AgentContext& ctx, const std::string& id, const std::string& metric,
                const Params& params, Poco::Net::HTTPServerResponse& response) {
    SeriesRequest req = parse_series_request(id, metric, params);

    Queries q(ctx.db_path);
    if (!q.last_seq(id)) throw HttpError{404, "unknown run: " + id};
    // Streamed: points go out in chunks as SQLite yields them, so an answer of millions of
    // points costs the agent one chunk of memory, not the whole answer.
    constexpr std::size_t kChunkBytes = 64 * 1024;
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    std::ostream* out = nullptr;
    auto flush = [&] {
        out->write(buf.GetString(), static_cast<std::streamsize>(buf.GetSize()));
        buf.Clear();
    };
    auto head = [&](const SeriesResult&) {
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
        response.setContentType("application/json");
        response.set("Cache-Control", "no-store");
        response.setChunkedTransferEncoding(true);
        out = &response.send();
        w.StartObject();
        w.Key("session_id"); write_string(w, id);
        w.Key("metric"); write_string(w, metric);
        w.Key("points");
        w.StartArray();
    };
    auto point = [&](const StoredPoint& p) {
        w.StartArray();
        w.Int64(p.step);
        write_ms(w, p.t_ms);
        write_number(w, p.value);
        w.EndArray();
        if (buf.GetSize() >= kChunkBytes) flush();
    };
    SeriesResult s = q.series(req, head, point);
    if (!s.found) throw HttpError{404, "run " + id + " has no metric '" + metric + "'" +
                                           (req.rank >= 0 ? " at rank " + std::to_string(req.rank) : "")};
    w.EndArray();
    w.Key("rank"); w.Int(s.rank);
    w.Key("downsampled"); w.Bool(s.downsampled);
    w.Key("total"); w.Int64(s.total);
    w.Key("seq"); w.Int64(s.seq);
    w.EndObject();
    flush();
}

void list_plugins(const AgentContext& ctx, Poco::Net::HTTPServerResponse& response) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("plugins");
    w.StartArray();
    if (ctx.plugins)
        for (const PluginStatus& p : ctx.plugins->status()) {
            w.StartObject();
            w.Key("name"); write_string(w, p.name);
            w.Key("path"); write_string(w, p.path);
            w.Key("state"); write_string(w, p.state);
            w.Key("reason"); write_string(w, p.reason);
            w.Key("batches"); w.Uint64(p.batches);
            w.Key("skipped_batches"); w.Uint64(p.skipped_batches);
            w.EndObject();
        }
    w.EndArray();
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

void get_analytics(const AgentContext& ctx, const std::string& id, Poco::Net::HTTPServerResponse& response) {
    Queries q(ctx.db_path);
    if (!q.run(id)) throw HttpError{404, "unknown run: " + id};
    std::string stats = ctx.plugins ? ctx.plugins->analytics_json(id) : "{}";
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_string(w, id);
    send_json(response, 200, std::string("{\"session_id\":") + buf.GetString() + ",\"stats\":" + stats + "}");
}

void get_events(const AgentContext& ctx, const std::string& id, Poco::Net::HTTPServerResponse& response) {
    Queries q(ctx.db_path);
    if (!q.run(id)) throw HttpError{404, "unknown run: " + id};
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("session_id"); write_string(w, id);
    w.Key("events");
    w.StartArray();
    Stmt ev(q.db(), "SELECT rank, t_ms, kind, text FROM events WHERE session_id=? ORDER BY t_ms");
    ev.bind(1, id);
    while (ev.step()) {
        w.StartObject();
        w.Key("rank"); w.Int64(ev.int64(0));
        w.Key("t_ms"); write_ms(w, ev.real(1));
        w.Key("kind"); write_string(w, ev.text(2));
        w.Key("text"); write_string(w, ev.text(3));
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

/// GET /api/model-info?session=ID (no session: the newest run).
void get_model_info(const AgentContext& ctx, const Params& params, Poco::Net::HTTPServerResponse& response) {
    Queries q(ctx.db_path);
    std::string id;
    if (auto it = params.find("session"); it != params.end() && !it->second.empty()) id = it->second;
    else if (auto newest = q.newest_session()) id = *newest;
    else throw HttpError{404, "no runs yet"};
    auto text = q.run_text(id, "model_info");
    if (!text) throw HttpError{404, "unknown run: " + id};
    rapidjson::StringBuffer idbuf;
    JsonWriter w(idbuf);
    write_string(w, id);
    std::string quoted_id = idbuf.GetString();
    if (text->empty())
        return send_json(response, 404,
                         "{\"error\":\"run has no model info (the trainer never called set_model_info)\","
                         "\"session_id\":" + quoted_id + "}");
    ModelInfoResult info = normalise_model_info(*text);
    if (!info.ok) {
        rapidjson::StringBuffer buf;
        JsonWriter e(buf);
        write_string(e, "the trainer's model info " + info.error);
        return send_json(response, 422, std::string("{\"error\":") + buf.GetString() + ",\"session_id\":" + quoted_id + "}");
    }
    info.json.insert(1, "\"session_id\":" + quoted_id + ",");
    send_json(response, 200, info.json);
}

}  // namespace

void handle_api(const AgentContext& ctx, const std::vector<std::string>& seg,
                Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    Params params = query_params(request);
    std::size_t n = seg.size();
    if (n == 2 && seg[1] == "runs") return list_runs(ctx, response);
    if (n == 3 && seg[1] == "runs") return get_run(ctx, seg[2], response);
    if (n == 4 && seg[1] == "runs" && seg[3] == "analytics") return get_analytics(ctx, seg[2], response);
    if (n == 4 && seg[1] == "runs" && seg[3] == "events") return get_events(ctx, seg[2], response);
    if (n == 2 && seg[1] == "plugins") return list_plugins(ctx, response);
    if (n == 2 && seg[1] == "model-info") return get_model_info(ctx, params, response);
    if (n == 5 && seg[1] == "runs" && seg[3] == "metrics")
        return get_series(ctx, seg[2], seg[4], params, response);
    throw HttpError{404, "no such API route"};
}

}  // namespace trainscope::agent
