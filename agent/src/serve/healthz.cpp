// GET /healthz (open, no token): the agent is alive, and whether its store takes writes.
// Always 200 with "status": "ok": the agent is up and keeps every point in the rings during a
// storage outage, so a liveness probe must not restart it. "storage" says how the store is:
// {"ok": true, "waiting_points": N} or, while commits fail (disk full, I/O error),
// {"ok": false, "error": "...", "waiting_points": N, "outage_s": S}. Nothing about runs.
// With --postgres, "forwarding" says the same of shipping (forward/forward_report.hpp).
#include "forward/forward_report.hpp"
#include "hub/pg_listener.hpp"
#include "ingest/collector.hpp"
#include "serve/http_server.hpp"
#include "serve/json_out.hpp"

namespace trainscope::agent {

std::string healthz_json(const AgentContext& ctx) {
    rapidjson::StringBuffer buffer;
    JsonOut w(buffer);
    w.StartObject();
    w.Key("status");
    w.String("ok");
    w.Key("version");
    write_string(w, ctx.version);
    if (ctx.collector) {
        StorageOutage::Snapshot s = ctx.collector->storage().snapshot();
        w.Key("storage");
        w.StartObject();
        write_outage_fields(w, s);
        w.Key("waiting_points");
        w.Uint64(s.waiting_points);
        w.EndObject();
    }
    if (ctx.forward) write_forward_health(w, *ctx.forward);
    if (ctx.hub_listener) {
        // A hub: whether its live link to PostgreSQL is up (requests open their own).
        PgListener::Health h = ctx.hub_listener->health();
        w.Key("postgres");
        w.StartObject();
        w.Key("ok"); w.Bool(h.ok);
        if (!h.ok) {
            w.Key("error"); write_string(w, h.error);
            w.Key("outage_s"); write_number(w, h.outage_s);
        }
        w.EndObject();
    }
    w.EndObject();
    return buffer.GetString();
}

}  // namespace trainscope::agent
