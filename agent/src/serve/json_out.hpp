// JSON output with RapidJSON: the shapes of API objects, written in one place.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.hpp"
#include "ingest/storage_outage.hpp"
#include "ingest/utf8.hpp"

namespace trainscope::agent {

using JsonOut = rapidjson::Writer<rapidjson::StringBuffer>;

/// Text is checked here as well as at ingest: a plugin's names and messages, or a database an
/// older agent filled, may hold invalid UTF-8, and one bad string closes a browser's socket.
inline void write_string(JsonOut& w, std::string_view s) {
    if (!is_valid_utf8(s)) {
        std::string fixed = valid_utf8(s);
        w.String(fixed.data(), static_cast<rapidjson::SizeType>(fixed.size()));
        return;
    }
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

/// JSON has no NaN or Infinity: they are written as null.
inline void write_number(JsonOut& w, double v) {
    if (std::isfinite(v)) w.Double(v);
    else w.Null();
}

/// `ms` as "%.3f" would print it, into buf; returns the length, or 0 if it does not fit (or
/// is not finite). Every point sent carries one: printf's decimal conversion of a 13-digit
/// number was most of the agent's time under WebSocket fan-out; std::to_chars gives the same
/// digits (exact, shortest-path Ryu) several times faster.
inline std::size_t format_ms(char* buf, std::size_t size, double ms) {
    if (!std::isfinite(ms)) return 0;
    auto [end, ec] = std::to_chars(buf, buf + size, ms, std::chars_format::fixed, 3);
    return ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0;
}

/// Milliseconds with microsecond precision, without RapidJSON's 17 significant digits.
inline void write_ms(JsonOut& w, double ms) {
    char buf[48];
    std::size_t n = format_ms(buf, sizeof buf, ms);
    if (n > 0) w.RawValue(buf, n, rapidjson::kNumberType);
    else if (std::isfinite(ms)) w.Double(ms);  // beyond any clock: exponent form
    else w.Null();
}

/// A run object as GET /api/runs lists it.
void write_run(JsonOut& w, const RunInfo& run, std::uint64_t live_dropped);

/// "ok", and while not ok the "error" and "outage_s" of an outage (storage, forwarding).
inline void write_outage_fields(JsonOut& w, const StorageOutage::Snapshot& s) {
    w.Key("ok");
    w.Bool(s.ok);
    if (!s.ok) {
        w.Key("error");
        write_string(w, s.error);
        w.Key("outage_s");
        write_number(w, s.outage_seconds);
    }
}
/// write_run's keys and values without the braces, for answers that add their own.
void write_run_fields(JsonOut& w, const RunInfo& run, std::uint64_t live_dropped);

/// {"type": "analytics", "plugin", "session_id", "stats": stats_json}: a plugin's latest
/// statistics pushed to the pages. `stats_json` must be a JSON object (the callers parse it).
std::string analytics_message(const std::string& plugin, const std::string& session, const std::string& stats_json);

/// {"type": "training_update", "session_id", "rank", "metric",
///  "points": [[step, t_ms, value, seq], ...], "seq": watermark, "more": true?}
/// `watermark`: every point of the session up to it has been sent once this message and
/// the ones flagged `more` before it are applied.
/// One committed update's points as JSON, rendered once and shared by every client that sends
/// them: "[step,t_ms,value,seq]" per point, joined by commas, with where each point starts and
/// ends. Serialising each client's copy separately was the agent's largest cost under fan-out.
struct RenderedPoints {
    std::string text;
    std::vector<std::uint32_t> begins, ends;  ///< point i is text[begins[i], ends[i])
    std::vector<std::int64_t> seqs;
};
RenderedPoints render_points(const std::vector<StoredPoint>& points);

/// A run of consecutive points of one RenderedPoints.
struct PointSlice {
    std::shared_ptr<const RenderedPoints> rendered;
    std::size_t begin = 0, end = 0;
};

/// The same message as training_update_json, from rendered points.
std::string training_update_json(const std::string& session_id, int rank, const std::string& metric,
                                 const std::vector<PointSlice>& slices, std::int64_t watermark, bool more);

std::string training_update_json(const SeriesUpdate& update, std::size_t begin, std::size_t end,
                                 std::int64_t watermark, bool more);

inline std::string error_json(std::string_view message) {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("error");
    write_string(w, message);
    w.EndObject();
    return buf.GetString();
}

}  // namespace trainscope::agent
