// REST routes under /api (see README "Interfaces").
#include <Poco/URI.h>
#include <rapidjson/document.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <limits>
#include <map>
#include <set>

#include "ingest/collector.hpp"
#include "plugins/plugin_host.hpp"
#include "serve/http_server.hpp"
#include "serve/http_util.hpp"
#include "serve/route_table.hpp"
#include "serve/run_admin.hpp"
#include "serve/run_answers.hpp"
#include "serve/runs_table_route.hpp"
#include "serve/json_in.hpp"
#include "serve/json_out.hpp"
#include "serve/model_info_check.hpp"
#include "store/queries.hpp"
#include "serve/series_params.hpp"

namespace trainscope::agent {

namespace {

using Params = QueryParams;

Params query_params(const Poco::Net::HTTPServerRequest& request) {
    return parse_query_params(request.getURI());
}

std::map<std::string, std::uint64_t> live_dropped(const AgentContext& ctx) {
    return ctx.collector ? ctx.collector->live_dropped() : std::map<std::string, std::uint64_t>{};
}

/// "<started_ms as 16 hex digits of its bits>.<session id>": where the next page starts.
std::string run_cursor(const RunInfo& run) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &run.started_ms, sizeof bits);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
    return std::string(hex) + "." + run.session_id;
}

std::pair<double, std::string> parse_run_cursor(const std::string& cursor) {
    std::size_t dot = cursor.find('.');
    std::uint64_t bits = 0;
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + std::min(dot, cursor.size()), bits, 16);
    if (dot != 16 || ec != std::errc() || end != cursor.data() + 16 || dot + 1 >= cursor.size())
        throw HttpError{400, "bad cursor: pass back the next_cursor of the previous page"};
    double started_ms = 0;
    std::memcpy(&started_ms, &bits, sizeof started_ms);
    return {started_ms, cursor.substr(dot + 1)};
}

/// GET /api/runs[?limit=&cursor=&q=&status=]: newest first. Without limit, every run that
/// matches; with it, a page and the cursor of the next (null after the last).
void list_runs(const AgentContext& ctx, const Params& params, Poco::Net::HTTPServerResponse& response) {
    RunReader::RunFilter filter;
    filter.limit = std::numeric_limits<std::int32_t>::max();
    auto param = [&](const char* key) -> const std::string* {
        auto it = params.find(key);
        return it == params.end() ? nullptr : &it->second;
    };
    if (const std::string* limit = param("limit")) {
        auto n = parse_int(*limit);
        if (!n || *n < 1 || *n > 1000) throw HttpError{400, "limit must be a whole number from 1 to 1000"};
        filter.limit = *n;
    }
    if (const std::string* cursor = param("cursor"); cursor && !cursor->empty())
        filter.after = parse_run_cursor(*cursor);
    if (const std::string* text = param("q")) {
        if (text->size() > 256) throw HttpError{400, "q is longer than 256 bytes"};
        filter.text = *text;
    }
    if (const std::string* status = param("status"); status && !status->empty()) {
        static const std::set<std::string> known = {"running", "finished", "failed", "crashed"};
        if (!known.count(*status)) throw HttpError{400, "status must be running, finished, failed or crashed"};
        filter.status = *status;
    }
    std::unique_ptr<RunReader> reader = open_reader(ctx);
    RunReader& q = *reader;
    RunReader::RunPage page = q.run_page(filter);
    auto dropped = live_dropped(ctx);
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("runs");
    w.StartArray();
    for (const RunInfo& run : page.runs) write_run(w, run, dropped[run.session_id]);
    w.EndArray();
    w.Key("next_cursor");
    if (page.more) write_string(w, run_cursor(page.runs.back())); else w.Null();
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

/// DELETE /api/runs/{id}: done by the collector (the one writer), which refuses a live run;
/// on a hub, in PostgreSQL, refused while any node reports the run running.
void delete_run(const AgentContext& ctx, const std::string& id, Poco::Net::HTTPServerResponse& response) {
    RemoveOutcome result = RemoveOutcome::removed;
    if (ctx.run_admin) {
        result = ctx.run_admin->remove_run(id);
    } else {
        if (!ctx.collector) throw HttpError{503, "this agent has no store to delete from"};
        std::future<RemoveOutcome> outcome = ctx.collector->remove_run(id);
        if (outcome.wait_for(std::chrono::seconds(60)) != std::future_status::ready)
            throw HttpError{503, "the store is not writing now; the deletion is queued and happens once it can"};
        result = outcome.get();
    }
    switch (result) {
        case RemoveOutcome::removed: break;
        case RemoveOutcome::unknown: throw HttpError{404, "unknown run: " + id};
        case RemoveOutcome::live: throw HttpError{409, "run " + id + " is live: it can be deleted once its trainers end"};
        case RemoveOutcome::store_failed: throw HttpError{503, "the store could not delete run " + id + " (see the agent's log)"};
        case RemoveOutcome::not_forwarded:
            throw HttpError{409, "run " + id + " is not all in PostgreSQL yet: it can be deleted here once it is forwarded"};
    }
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("session_id"); write_string(w, id);
    w.Key("deleted"); w.Bool(true);
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

void get_run(const AgentContext& ctx, const std::string& id, Poco::Net::HTTPServerResponse& response) {
    std::unique_ptr<RunReader> reader = open_reader(ctx);
    std::optional<std::string> body = run_answer(*reader, id, live_dropped(ctx)[id]);
    if (!body) throw HttpError{404, "unknown run: " + id};
    send_json(response, 200, *body);
}

void get_series(const AgentContext& ctx, const std::string& id, const std::string& metric,
                const Params& params, Poco::Net::HTTPServerResponse& response) {
    SeriesRequest req = parse_series_request(id, metric, params);

    std::unique_ptr<RunReader> reader = open_reader(ctx);
    if (!reader->last_seq(id)) throw HttpError{404, "unknown run: " + id};
    // Streamed: points go out in chunks as SQLite yields them, so an answer of millions of
    // points costs the agent one chunk of memory, not the whole answer.
    rapidjson::StringBuffer buf;
    std::ostream* out = nullptr;
    auto flush = [&] {
        out->write(buf.GetString(), static_cast<std::streamsize>(buf.GetSize()));
        buf.Clear();
    };
    auto started = [&] {
        response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
        response.setContentType("application/json");
        response.set("Cache-Control", "no-store");
        response.setChunkedTransferEncoding(true);
        out = &response.send();
    };
    if (!write_series_answer(*reader, req, buf, started, flush))
        throw HttpError{404, "run " + id + " has no metric '" + metric + "'" +
                                 (req.rank >= 0 ? " at rank " + std::to_string(req.rank) : "")};
    flush();
}

void list_plugins(const AgentContext& ctx, Poco::Net::HTTPServerResponse& response) {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
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
    std::unique_ptr<RunReader> reader = open_reader(ctx);
    RunReader& q = *reader;
    if (!q.run(id)) throw HttpError{404, "unknown run: " + id};
    std::string stats = ctx.plugins ? ctx.plugins->analytics_json(id) : "{}";
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("session_id"); write_string(w, id);
    w.Key("stats"); w.RawValue(stats.data(), stats.size(), rapidjson::kObjectType);  // the host's JSON
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

void get_events(const AgentContext& ctx, const std::string& id, Poco::Net::HTTPServerResponse& response) {
    std::unique_ptr<RunReader> reader = open_reader(ctx);
    RunReader& q = *reader;
    if (!q.run(id)) throw HttpError{404, "unknown run: " + id};
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("session_id"); write_string(w, id);
    w.Key("events");
    w.StartArray();
    for (const RunEvent& ev : q.events(id)) {
        w.StartObject();
        w.Key("rank"); w.Int64(ev.rank);
        w.Key("t_ms"); write_ms(w, ev.t_ms);
        w.Key("kind"); write_string(w, ev.kind);
        w.Key("text"); write_string(w, ev.text);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

/// GET /api/model-info?session=ID (no session: the newest run).
void get_model_info(const AgentContext& ctx, const Params& params, Poco::Net::HTTPServerResponse& response) {
    std::unique_ptr<RunReader> reader = open_reader(ctx);
    RunReader& q = *reader;
    std::string id;
    if (auto it = params.find("session"); it != params.end() && !it->second.empty()) id = it->second;
    else if (auto newest = q.newest_session()) id = *newest;
    else throw HttpError{404, "no runs yet"};
    auto text = q.run_text(id, "model_info");
    if (!text) throw HttpError{404, "unknown run: " + id};
    // The answer: {"session_id", then the normalised model info's keys} or {"error", "session_id"}.
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    auto error = [&](int status, const std::string& message) {
        w.StartObject();
        w.Key("error"); write_string(w, message);
        w.Key("session_id"); write_string(w, id);
        w.EndObject();
        send_json(response, status, buf.GetString());
    };
    if (text->empty()) return error(404, "run has no model info (the trainer never called set_model_info)");
    ModelInfoResult info = normalise_model_info(*text);
    if (!info.ok) return error(422, "the trainer's model info " + info.error);
    rapidjson::Document doc;  // our own output, within the limits it was checked against
    doc.Parse<rapidjson::kParseIterativeFlag>(info.json.data(), info.json.size());
    w.StartObject();
    w.Key("session_id"); write_string(w, id);
    for (const auto& member : doc.GetObject()) {
        w.Key(member.name.GetString(), member.name.GetStringLength());
        member.value.Accept(w);
    }
    w.EndObject();
    send_json(response, 200, buf.GetString());
}

}  // namespace

void add_api_routes(RouteTable& routes, const AgentContext& ctx) {
    const AgentContext* c = &ctx;  // outlives the table (http_server.hpp)
    // Every API answer parses the query string first: a malformed one is a 400 on any route.
    auto api = [&routes](const char* pattern, auto fn) {
        routes.add("GET", pattern, [fn](RouteRequest& r) {
            fn(r, query_params(r.request));
            return true;
        });
    };
    api("/api/runs", [c](RouteRequest& r, const Params& p) { list_runs(*c, p, r.response); });
    add_runs_table_routes(routes, ctx);  // before /api/runs/{id}, which would take "table"
    routes.add("DELETE", "/api/runs/{id}", [c](RouteRequest& r) {
        delete_run(*c, r["{id}"], r.response);
        return true;
    });
    api("/api/runs/{id}", [c](RouteRequest& r, const Params&) { get_run(*c, r["{id}"], r.response); });
    api("/api/runs/{id}/analytics", [c](RouteRequest& r, const Params&) { get_analytics(*c, r["{id}"], r.response); });
    api("/api/runs/{id}/events", [c](RouteRequest& r, const Params&) { get_events(*c, r["{id}"], r.response); });
    api("/api/plugins", [c](RouteRequest& r, const Params&) { list_plugins(*c, r.response); });
    api("/api/model-info", [c](RouteRequest& r, const Params& p) { get_model_info(*c, p, r.response); });
    api("/api/runs/{id}/metrics/{metric}", [c](RouteRequest& r, const Params& p) {
        get_series(*c, r["{id}"], r["{metric}"], p, r.response);
    });
}

}  // namespace trainscope::agent
