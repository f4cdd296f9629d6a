// GET /metrics: Prometheus text exposition, so a real Prometheus aggregates across machines.
// Per-run series cover only live runs and runs that ended recently (AgentContext::
// metrics_keep_ended_s): a Prometheus scraping for months must not collect one time series
// per run ever made, and ended runs are in the store anyway.
#include <charconv>
#include <chrono>
#include <cmath>
#include <sstream>

#include "forward/forward_report.hpp"
#include "ingest/collector.hpp"
#include "serve/http_server.hpp"
#include "serve/run_admin.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

namespace {

// Label values escape backslash, double quote and newline (the text format's three).
std::string label(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
    }
    return out;
}

// Shortest text that reads back as the same double; the format's own NaN and infinities.
std::string sample_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string run_labels(const RunInfo& r) {
    return "session_id=\"" + label(r.session_id) + "\",run=\"" + label(r.name) + "\"";
}

void write_agent_counters(const AgentContext& ctx, std::ostream& out) {
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
}

/// `Source`: the node's Queries, or a hub's RunAdmin (PostgreSQL); both offer
/// runs_active_since and latest_values.
template <typename Source>
void write_runs(const AgentContext& ctx, Source& q, std::ostream& out) {
    double now_ms = std::chrono::duration<double, std::milli>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    std::vector<RunInfo> runs = q.runs_active_since(now_ms - ctx.metrics_keep_ended_s * 1000.0);
    auto live = ctx.collector ? ctx.collector->live_dropped() : std::map<std::string, std::uint64_t>{};

    out << "# HELP trainscope_run_dropped_total Records a trainer dropped because its ring was full.\n"
           "# TYPE trainscope_run_dropped_total counter\n";
    for (const RunInfo& r : runs) {
        std::int64_t dropped = std::max<std::int64_t>(r.dropped, static_cast<std::int64_t>(live[r.session_id]));
        out << "trainscope_run_dropped_total{" << run_labels(r) << "} " << dropped << "\n";
    }
    out << "# HELP trainscope_run_points_total Points stored for a run.\n"
           "# TYPE trainscope_run_points_total counter\n";
    for (const RunInfo& r : runs) out << "trainscope_run_points_total{" << run_labels(r) << "} " << r.points << "\n";
    out << "# HELP trainscope_run_running 1 while the run's trainer is alive.\n"
           "# TYPE trainscope_run_running gauge\n";
    for (const RunInfo& r : runs)
        out << "trainscope_run_running{" << run_labels(r) << "} " << (r.status == "running" ? 1 : 0) << "\n";

    // The newest value of every series, within one budget for the whole exposition.
    std::int64_t budget = static_cast<std::int64_t>(kMaxExposedSeries);
    std::int64_t omitted = 0;
    std::ostringstream values, steps;
    for (const RunInfo& r : runs) {
        std::vector<Queries::LatestValue> latest = q.latest_values(r.session_id, budget + 1);
        if (static_cast<std::int64_t>(latest.size()) > budget) {
            latest.resize(static_cast<std::size_t>(budget));
            omitted += 1;  // this run has more: counted as one omitted run below
        }
        budget -= static_cast<std::int64_t>(latest.size());
        for (const Queries::LatestValue& v : latest) {
            std::string labels = run_labels(r) + ",metric=\"" + label(v.metric) + "\",rank=\"" +
                                 std::to_string(v.rank) + "\"";
            values << "trainscope_metric_last{" << labels << "} " << sample_value(v.value) << "\n";
            steps << "trainscope_metric_last_step{" << labels << "} " << v.step << "\n";
        }
    }
    out << "# HELP trainscope_metric_last The newest value a trainer logged for a metric and rank.\n"
           "# TYPE trainscope_metric_last gauge\n"
        << values.str()
        << "# HELP trainscope_metric_last_step The step of trainscope_metric_last.\n"
           "# TYPE trainscope_metric_last_step gauge\n"
        << steps.str()
        << "# HELP trainscope_metric_runs_truncated Runs whose metrics did not all fit the "
           "exposition's series budget.\n"
           "# TYPE trainscope_metric_runs_truncated gauge\n"
        << "trainscope_metric_runs_truncated " << omitted << "\n";
}

}  // namespace

void handle_prometheus(const AgentContext& ctx, Poco::Net::HTTPServerResponse& response) {
    std::ostringstream out;
    write_agent_counters(ctx, out);
    if (ctx.run_admin) {  // a hub: every node's runs from PostgreSQL, and its own figures
        ctx.run_admin->write_metrics(out);
        write_runs(ctx, *ctx.run_admin, out);
    } else if (!ctx.reader) {
        Queries q(ctx.db_path);
        write_runs(ctx, q, out);
    }
    std::string body = out.str();
    response.setContentType("text/plain; version=0.0.4");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
}

}  // namespace trainscope::agent
