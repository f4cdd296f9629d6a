// GET /metrics: Prometheus text exposition, so a real Prometheus aggregates across machines.
#include <sstream>

#include "forward/forward_report.hpp"
#include "ingest/collector.hpp"
#include "serve/http_server.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

namespace {

std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out;
}

}  // namespace

void handle_prometheus(const AgentContext& ctx, Poco::Net::HTTPServerResponse& response) {
    std::ostringstream out;
    if (ctx.collector) {
        const CollectorStats& s = ctx.collector->stats();
        out << "# HELP trainscope_points_stored_total Points committed to the store.\n"
               "# TYPE trainscope_points_stored_total counter\n"
            << "trainscope_points_stored_total " << s.points_stored << "\n"
            << "# TYPE trainscope_segments_refused_total counter\n"
            << "trainscope_segments_refused_total " << s.segments_refused << "\n"
            << "# TYPE trainscope_records_corrupt_total counter\n"
            << "trainscope_records_corrupt_total " << s.records_corrupt << "\n"
            << "# TYPE trainscope_store_errors_total counter\n"
            << "trainscope_store_errors_total " << s.store_errors << "\n";
        StorageOutage::Snapshot storage = ctx.collector->storage().snapshot();
        out << "# HELP trainscope_storage_ok 1 while commits to the store go through (0: disk full, "
               "I/O error; points wait in the trainers' rings).\n"
               "# TYPE trainscope_storage_ok gauge\n"
            << "trainscope_storage_ok " << (storage.ok ? 1 : 0) << "\n"
            << "# HELP trainscope_storage_waiting_points Points in the trainers' rings not stored yet.\n"
               "# TYPE trainscope_storage_waiting_points gauge\n"
            << "trainscope_storage_waiting_points " << storage.waiting_points << "\n";
    }
    if (ctx.forward) write_forward_metrics(out, *ctx.forward);
    if (ctx.websocket_clients)
        out << "# HELP trainscope_websocket_clients Connected dashboard clients.\n"
               "# TYPE trainscope_websocket_clients gauge\n"
            << "trainscope_websocket_clients " << ctx.websocket_clients() << "\n";
    Queries q(ctx.db_path);
    auto live = ctx.collector ? ctx.collector->live_dropped() : std::map<std::string, std::uint64_t>{};
    out << "# HELP trainscope_run_dropped_total Records a trainer dropped because its ring was full.\n"
           "# TYPE trainscope_run_dropped_total counter\n";
    std::vector<RunInfo> runs = q.runs();
    for (const RunInfo& r : runs) {
        std::int64_t dropped = std::max<std::int64_t>(r.dropped, static_cast<std::int64_t>(live[r.session_id]));
        out << "trainscope_run_dropped_total{session_id=\"" << label(r.session_id) << "\",run=\""
            << label(r.name) << "\"} " << dropped << "\n";
    }
    out << "# HELP trainscope_run_points_total Points stored for a run.\n"
           "# TYPE trainscope_run_points_total counter\n";
    for (const RunInfo& r : runs)
        out << "trainscope_run_points_total{session_id=\"" << label(r.session_id) << "\",run=\""
            << label(r.name) << "\"} " << r.points << "\n";
    out << "# HELP trainscope_run_running 1 while the run's trainer is alive.\n"
           "# TYPE trainscope_run_running gauge\n";
    for (const RunInfo& r : runs)
        out << "trainscope_run_running{session_id=\"" << label(r.session_id) << "\",run=\""
            << label(r.name) << "\"} " << (r.status == "running" ? 1 : 0) << "\n";
    std::string body = out.str();
    response.setContentType("text/plain; version=0.0.4");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
}

}  // namespace trainscope::agent
