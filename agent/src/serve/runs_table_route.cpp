#include "serve/runs_table_route.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>

#include "ingest/collector.hpp"
#include "serve/http_server.hpp"
#include "serve/http_util.hpp"
#include "serve/json_in.hpp"
#include "serve/json_out.hpp"
#include "serve/route_table.hpp"
#include "serve/run_admin.hpp"
#include "serve/run_edit_json.hpp"
#include "serve/series_params.hpp"
#include "store/runs_table.hpp"

namespace trainscope::agent {

namespace {

constexpr std::int64_t kDefaultTableRows = 10'000;
constexpr std::int64_t kMaxTableRows = 50'000;
constexpr std::size_t kMaxTableMetrics = 8;

const std::string* param(const QueryParams& params, const char* key) {
    auto it = params.find(key);
    return it == params.end() ? nullptr : &it->second;
}

/// The run filter of GET /api/runs/table: the same q and status as GET /api/runs.
Queries::RunFilter table_filter(const QueryParams& params) {
    Queries::RunFilter filter;
    filter.limit = kDefaultTableRows;
    if (const std::string* limit = param(params, "limit")) {
        auto n = parse_int(*limit);
        if (!n || *n < 1 || *n > kMaxTableRows)
            throw HttpError{400, "limit must be a whole number from 1 to " + std::to_string(kMaxTableRows)};
        filter.limit = *n;
    }
    if (const std::string* text = param(params, "q")) {
        if (text->size() > 256) throw HttpError{400, "q is longer than 256 bytes"};
        filter.text = *text;
    }
    if (const std::string* status = param(params, "status"); status && !status->empty()) {
        static const std::set<std::string> known = {"running", "finished", "failed", "crashed"};
        if (!known.count(*status)) throw HttpError{400, "status must be running, finished, failed or crashed"};
        filter.status = *status;
    }
    return filter;
}

/// metrics=a,b (default val/loss; "" for none): the metrics whose latest and best are wanted.
std::vector<std::string> table_metrics(const QueryParams& params) {
    const std::string* list = param(params, "metrics");
    if (!list) return {"val/loss"};
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= list->size() && !list->empty()) {
        std::size_t end = std::min(list->find(',', start), list->size());
        std::string name = list->substr(start, end - start);
        if (name.empty() || name.size() > 256) throw HttpError{400, "metrics must be metric names (1 to 256 bytes) separated by commas"};
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
        start = end + 1;
    }
    if (out.size() > kMaxTableMetrics)
        throw HttpError{400, "metrics names " + std::to_string(out.size()) + " metrics; at most " + std::to_string(kMaxTableMetrics)};
    return out;
}

/// Writes an object's members as "a.b.c": value, nested objects joined with dots; arrays and
/// scalars as they are (the table shows and compares them as values).
void write_flat(JsonOut& w, const rapidjson::Value& object, const std::string& prefix) {
    for (const auto& m : object.GetObject()) {
        std::string key = prefix + std::string(m.name.GetString(), m.name.GetStringLength());
        if (m.value.IsObject() && m.value.MemberCount() > 0) {
            write_flat(w, m.value, key + ".");
            continue;
        }
        write_string(w, key);
        m.value.Accept(w);
    }
}

void write_config(JsonOut& w, const std::string& config) {
    w.StartObject();
    rapidjson::Document doc;
    if (!config.empty() && parse_json(doc, config, kConfigJsonLimits).empty() && doc.IsObject())
        write_flat(w, doc, "");
    w.EndObject();
}

void get_runs_table(const AgentContext& ctx, const QueryParams& params, Poco::Net::HTTPServerResponse& response) {
    Queries::RunFilter filter = table_filter(params);
    std::vector<std::string> metrics = table_metrics(params);
    RunsTable table;
    if (ctx.run_admin) {
        table = ctx.run_admin->runs_table(filter, metrics);
    } else {
        Queries q(ctx.db_path);
        table = read_runs_table(q.db(), filter, metrics);
    }
    // Streamed in chunks: 10,000 runs make a few MB of JSON, never held whole (nor copied).
    constexpr std::size_t kChunkBytes = 64 * 1024;
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType("application/json");
    response.set("Cache-Control", "no-store");
    response.setChunkedTransferEncoding(true);
    std::ostream& out = response.send();
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    auto flush = [&] {
        out.write(buf.GetString(), static_cast<std::streamsize>(buf.GetSize()));
        buf.Clear();
    };
    w.StartObject();
    w.Key("metrics");
    w.StartArray();
    for (const std::string& m : metrics) {
        w.StartObject();
        w.Key("name"); write_string(w, m);
        w.Key("best"); w.String(lower_is_better(m) ? "min" : "max");
        w.EndObject();
    }
    w.EndArray();
    w.Key("metric_names");
    w.StartArray();
    for (const std::string& m : table.metric_names) write_string(w, m);
    w.EndArray();
    w.Key("more"); w.Bool(table.more);
    w.Key("runs");
    w.StartArray();
    for (const RunsTableRow& row : table.rows) {
        const RunInfo& r = row.run;
        w.StartObject();
        w.Key("session_id"); write_string(w, r.session_id);
        w.Key("name"); write_string(w, r.name);
        w.Key("original_name"); write_string(w, r.original_name);
        w.Key("status"); write_string(w, r.status);
        w.Key("host"); write_string(w, r.host);
        w.Key("started_ms"); write_ms(w, r.started_ms);
        double end = r.ended_ms > 0 ? r.ended_ms : std::max(r.last_ms, r.started_ms);
        w.Key("duration_ms"); write_ms(w, end - r.started_ms);
        w.Key("points"); w.Int64(r.points);
        w.Key("ranks");
        w.StartArray();
        for (int rank : r.ranks) w.Int(rank);
        w.EndArray();
        w.Key("notes"); write_string(w, r.notes);
        w.Key("tags");
        w.StartArray();
        for (const std::string& t : r.tags) write_string(w, t);
        w.EndArray();
        w.Key("config"); write_config(w, row.config);
        w.Key("figures");
        w.StartObject();
        for (std::size_t k = 0; k < metrics.size(); ++k) {
            const MetricFigures& f = row.figures[k];
            if (!f.found) continue;
            write_string(w, metrics[k]);
            w.StartObject();
            w.Key("latest"); write_number(w, f.latest);
            w.Key("latest_step"); w.Int64(f.latest_step);
            w.Key("best"); write_number(w, f.best);
            w.Key("points"); w.Int64(f.points);
            w.EndObject();
        }
        w.EndObject();
        w.EndObject();
        if (buf.GetSize() >= kChunkBytes) flush();
    }
    w.EndArray();
    w.EndObject();
    flush();
}

/// The request body, refused past kMaxRunEditBody without reading further.
std::string read_body(Poco::Net::HTTPServerRequest& request) {
    if (request.hasContentLength() && request.getContentLength64() > static_cast<Poco::Int64>(kMaxRunEditBody))
        throw HttpError{400, "the body is larger than " + std::to_string(kMaxRunEditBody) + " bytes"};
    std::string body;
    std::istream& in = request.stream();
    char chunk[4096];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        body.append(chunk, static_cast<std::size_t>(in.gcount()));
        if (body.size() > kMaxRunEditBody)
            throw HttpError{400, "the body is larger than " + std::to_string(kMaxRunEditBody) + " bytes"};
    }
    return body;
}

/// PATCH /api/runs/{id}: done by the collector (the one writer); answers the run as it now is.
void patch_run(const AgentContext& ctx, const std::string& id, Poco::Net::HTTPServerRequest& request,
               Poco::Net::HTTPServerResponse& response) {
    RunEdit edit = parse_run_edit(read_body(request));
    EditOutcome result = EditOutcome::updated;
    if (ctx.run_admin) {
        result = ctx.run_admin->edit_run(id, edit);
    } else {
        if (!ctx.collector) throw HttpError{503, "this agent has no store to write to"};
        std::future<EditOutcome> outcome = ctx.collector->edit_run(id, std::move(edit));
        if (outcome.wait_for(std::chrono::seconds(60)) != std::future_status::ready)
            throw HttpError{503, "the store is not writing now; the edit is queued and happens once it can"};
        result = outcome.get();
    }
    switch (result) {
        case EditOutcome::updated: break;
        case EditOutcome::unknown: throw HttpError{404, "unknown run: " + id};
        case EditOutcome::store_failed: throw HttpError{503, "the store could not edit run " + id + " (see the agent's log)"};
    }
    std::unique_ptr<RunReader> reader = open_reader(ctx);
    auto run = reader->run(id);
    if (!run) throw HttpError{404, "unknown run: " + id};  // deleted just after the edit
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    auto dropped = ctx.collector ? ctx.collector->live_dropped() : std::map<std::string, std::uint64_t>{};
    write_run(w, *run, dropped[id]);
    send_json(response, 200, buf.GetString());
}

}  // namespace

void add_runs_table_routes(RouteTable& routes, const AgentContext& ctx) {
    const AgentContext* c = &ctx;  // outlives the table (http_server.hpp)
    routes.add("GET", "/api/runs/table", [c](RouteRequest& r) {
        get_runs_table(*c, parse_query_params(r.request.getURI()), r.response);
        return true;
    });
    routes.add("PATCH", "/api/runs/{id}", [c](RouteRequest& r) {
        patch_run(*c, r["{id}"], r.request, r.response);
        return true;
    });
}

}  // namespace trainscope::agent
