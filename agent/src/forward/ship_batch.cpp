#include "forward/ship_batch.hpp"

#include <charconv>
#include <map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "forward/pg_connection.hpp"
#include "forward/pg_rollups.hpp"
#include "forward/pg_schema.hpp"

namespace trainscope::agent {

namespace {

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::optional<std::string> number_or_null(double v) {
    if (v < 0) return std::nullopt;
    std::string s;
    append_double(s, v);
    return s;
}

std::string number(double v) {
    std::string s;
    append_double(s, v);
    return s;
}

/// The batch's points in COPY's binary format: series_id, seq, step, t_us, value.
std::string points_copy_data(const std::vector<PgPointRow>& points) {
    BinaryCopy copy;
    for (const PgPointRow& p : points) {
        copy.row(5);
        copy.int64(p.series_id);
        copy.int64(p.seq);
        copy.int64(p.step);
        copy.int64(p.t_us);
        copy.float8(p.value);
    }
    return copy.finish();
}

/// One multi-row upsert of each series' newest point in the batch: "latest value" lookups
/// then read one row per series instead of scanning points.
std::string latest_upsert(const std::vector<PgPointRow>& points) {
    std::map<std::int64_t, const PgPointRow*> newest;
    for (const PgPointRow& p : points) {
        const PgPointRow*& n = newest[p.series_id];
        if (!n || n->seq < p.seq) n = &p;
    }
    std::string sql = "INSERT INTO trainscope.latest (series_id, seq, step, t_us, value) VALUES ";
    bool first = true;
    for (const auto& [id, p] : newest) {
        sql += first ? "(" : ",(";
        first = false;
        append_int(sql, id);
        sql += ',';
        append_int(sql, p->seq);
        sql += ',';
        append_int(sql, p->step);
        sql += ',';
        append_int(sql, p->t_us);
        sql += ",'";
        append_double(sql, p->value);
        sql += "'::float8)";
    }
    sql += " ON CONFLICT (series_id) DO UPDATE SET seq = excluded.seq, step = excluded.step, "
           "t_us = excluded.t_us, value = excluded.value WHERE trainscope.latest.seq < excluded.seq";
    return sql;
}

std::string events_copy_text(const ShipBatch& batch) {
    std::string data;
    for (const PgEventRow& e : batch.events) {
        copy_escape(data, batch.agent_id);
        data += '\t';
        append_int(data, e.local_id);
        data += '\t';
        copy_escape(data, e.session_id);
        data += '\t';
        copy_escape(data, batch.host);
        data += '\t';
        append_int(data, e.rank);
        data += '\t';
        append_double(data, e.t_ms);
        data += '\t';
        copy_escape(data, e.kind);
        data += '\t';
        copy_escape(data, e.text);
        data += '\n';
    }
    return data;
}

void write_run(PgConnection& pg, const ShipBatch& batch, const PgRunRow& r) {
    if (r.shared_row)
        pg.exec("INSERT INTO trainscope.runs (session_id, name, started_ms, config, model_info) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id) DO UPDATE SET "
                "started_ms = LEAST(trainscope.runs.started_ms, excluded.started_ms), "
                "config = COALESCE(excluded.config, trainscope.runs.config), "
                "model_info = COALESCE(excluded.model_info, trainscope.runs.model_info)",
                {r.session_id, r.name, number(r.started_ms), r.config, r.model_info});
    pg.exec("INSERT INTO trainscope.run_nodes (session_id, agent_id, host, pid, status, started_ms, "
            "ended_ms, last_ms, shipped_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
            "ON CONFLICT (session_id, agent_id) DO UPDATE SET host = excluded.host, "
            "pid = excluded.pid, status = excluded.status, started_ms = excluded.started_ms, "
            "ended_ms = excluded.ended_ms, last_ms = excluded.last_ms, "
            "shipped_seq = GREATEST(trainscope.run_nodes.shipped_seq, excluded.shipped_seq)",
            {r.session_id, batch.agent_id, batch.host, std::to_string(r.pid), r.status,
             number(r.started_ms), number_or_null(r.ended_ms), number_or_null(r.last_ms),
             std::to_string(r.shipped_seq)});
}

}  // namespace

bool write_batch(PgConnection& pg, const ShipBatch& batch) {
    pg.exec("BEGIN");
    try {
        // The ledger row first: if this batch is already in, nothing else is written.
        PgResult ledger = pg.exec(
            "INSERT INTO trainscope.ledger (agent_id, batch_seq, points) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            {batch.agent_id, std::to_string(batch.batch_seq), std::to_string(batch.points.size())});
        if (ledger.affected() == 0) {
            pg.exec("ROLLBACK");
            return false;
        }
        if (!batch.points.empty()) {
            pg.copy_in_binary("trainscope.points (series_id, seq, step, t_us, value)",
                              points_copy_data(batch.points));
            pg.exec(latest_upsert(batch.points));
            // The level-of-detail rollups of the batch's buckets, in the same transaction.
            PgRollupDelta rollups;
            for (const PgPointRow& p : batch.points)
                rollups.add(p.series_id, StoredPoint{p.seq, p.step, static_cast<double>(p.t_us) / 1000.0, p.value});
            rollups.merge_into(pg);
        }
        for (const PgRunRow& r : batch.runs) write_run(pg, batch, r);
        if (!batch.events.empty())
            pg.copy_in("trainscope.events (agent_id, local_id, session_id, host, rank, t_ms, kind, text)",
                       events_copy_text(batch));
        if (batch.events_rowid >= 0)
            pg.exec("UPDATE trainscope.agents SET events_rowid = $2, last_seen = now() WHERE agent_id = $1",
                    {batch.agent_id, std::to_string(batch.events_rowid)});
        // Delivered at COMMIT, once per batch: a hub wakes up once, never per point.
        pg.exec("SELECT pg_notify($1, $2)", {std::string(kPgNotifyChannel), batch.notify_payload});
        pg.exec("COMMIT");
        return true;
    } catch (...) {
        try { if (pg.ok()) pg.exec("ROLLBACK"); } catch (const PgError&) {}
        throw;
    }
}

std::string notify_payload(const ShipBatch& batch) {
    // 60 runs of at most 31-character ids stay under 4 KB; a hub that sees "more" reloads.
    constexpr std::size_t kMaxRuns = 60;
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("agent_id");
    w.String(batch.agent_id.c_str(), static_cast<rapidjson::SizeType>(batch.agent_id.size()));
    w.Key("host");
    std::string host = batch.host.substr(0, 255);
    w.String(host.c_str(), static_cast<rapidjson::SizeType>(host.size()));
    w.Key("batch_seq");
    w.Int64(batch.batch_seq);
    w.Key("points");
    w.Uint64(batch.points.size());
    w.Key("runs");
    w.StartArray();
    std::size_t n = 0;
    for (const PgRunRow& r : batch.runs) {
        if (n++ == kMaxRuns) break;
        w.StartArray();
        w.String(r.session_id.c_str(), static_cast<rapidjson::SizeType>(std::min<std::size_t>(r.session_id.size(), 64)));
        w.Int64(r.shipped_seq);
        w.EndArray();
    }
    w.EndArray();
    w.Key("more");
    w.Bool(batch.runs.size() > kMaxRuns);
    w.EndObject();
    return buffer.GetString();
}

}  // namespace trainscope::agent
