#include "serve/ws_messages.hpp"

#include "serve/json_out.hpp"
#include "store/run_reader.hpp"

namespace trainscope::agent {

std::string run_event_json(RunReader& q, const std::string& kind, const std::string& session,
                           const std::map<std::string, std::uint64_t>& dropped) {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("type"); write_string(w, kind);
    w.Key("session_id"); write_string(w, session);
    if (auto run = q.run(session)) {
        w.Key("run");
        auto it = dropped.find(session);
        write_run(w, *run, it == dropped.end() ? 0 : it->second);
    }
    w.EndObject();
    return buf.GetString();
}

std::string hello_json(RunReader& q, const std::string& version,
                       const std::map<std::string, std::uint64_t>& dropped) {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("type"); w.String("hello");
    w.Key("version"); write_string(w, version);
    auto newest = q.newest_session();
    w.Key("session_id");
    if (newest) write_string(w, *newest); else w.Null();
    // The newest page only: with thousands of runs, listing all of them made every connect
    // slow; the page finds older runs through GET /api/runs?q= as the user types.
    RunReader::RunFilter newest_page;
    newest_page.limit = kHelloRuns;
    RunReader::RunPage page = q.run_page(newest_page);
    w.Key("sessions");
    w.StartArray();
    for (const RunInfo& r : page.runs) {
        auto it = dropped.find(r.session_id);
        write_run(w, r, it == dropped.end() ? 0 : it->second);
    }
    w.EndArray();
    w.Key("total_runs"); w.Int64(q.run_count());
    w.EndObject();
    return buf.GetString();
}

std::string simple_json(const char* type, const std::string& key, const std::string& value) {
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("type"); w.String(type);
    w.Key(key.c_str()); write_string(w, value);
    w.EndObject();
    return buf.GetString();
}

}  // namespace trainscope::agent
