// export: every point of a run at full resolution, streamed straight from the store.
//   GET /api/runs/{id}/export.csv   session_id,metric,step,timestamp,value,rank
//     (text cells starting with = + - @ tab or CR get a leading ' against formula injection)
//   GET /api/runs/{id}/export.json  {"session_id":...,"series":[{"metric","rank","points":[[step,t_ms,value],...]}]}
// Either takes ?filename=NAME (the dashboard sends "<run name>-<time>.csv"); the name is
// reduced to [A-Za-z0-9._-] so it cannot break the header or leave the download folder.
// Nothing is held in memory: a 10-million-point run streams in constant space.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include <trainscope/plugin.hpp>
#include <trainscope/plugin_json.hpp>

#include "csv_cells.hpp"

namespace trainscope::plugins {
namespace {

using csv::csv_text;
using csv::iso_time;
using csv::value_text;

class ExportPlugin : public plugin::Plugin {
public:
    explicit ExportPlugin(plugin::Host& host) : host_(host) {}

    bool handle_http(const plugin::HttpRequest& req, plugin::HttpResponse& res) override {
        const auto& seg = req.segments;
        if (seg.size() != 4 || seg[0] != "api" || seg[1] != "runs") return false;
        const std::string& id = seg[2];
        if (seg[3] == "export.csv") return export_csv(id, file_name(req, id, "csv"), res);
        if (seg[3] == "export.json") return export_json(id, file_name(req, id, "json"), res);
        return false;
    }

private:
    /// An unknown run gets the agent's usual JSON error.
    static bool not_found(const std::string& id, plugin::HttpResponse& res) {
        res.set_status(404);
        res.set_header("Content-Type", "application/json");
        std::string msg;
        plugin::append_json_string(msg, "unknown run: " + id);
        res.body() << "{\"error\":" << msg << "}";
        return true;
    }

    /// The asked-for name made safe, with the right extension; "trainscope-<id>.<ext>" if none.
    static std::string file_name(const plugin::HttpRequest& req, const std::string& id, const std::string& ext) {
        auto it = req.query.find("filename");
        std::string safe;
        if (it != req.query.end()) {
            for (char c : it->second.substr(0, 120)) {
                bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
                safe += keep ? c : '_';
            }
            safe.erase(0, safe.find_first_not_of('.'));  // no hidden files, no ".."
        }
        if (safe.empty()) safe = "trainscope-" + id;
        if (safe.size() < ext.size() + 1 || safe.compare(safe.size() - ext.size() - 1, std::string::npos, "." + ext) != 0)
            safe += "." + ext;
        return safe;
    }

    bool export_csv(const std::string& id, const std::string& name, plugin::HttpResponse& res) {
        if (host_.run_status(id).empty()) return not_found(id, res);
        res.set_status(200);
        res.set_header("Content-Type", "text/csv; charset=utf-8");
        res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
        std::ostream& out = res.body();
        out << "session_id,metric,step,timestamp,value,rank\n";
        std::string session = csv_text(id);
        host_.for_each_point(id, [&](std::string_view metric, int rank, const plugin::Point& p) {
            out << session << ',' << csv_text(metric) << ',' << p.step << ',' << iso_time(p.t_ms) << ','
                << value_text(p.value) << ',' << rank << '\n';
        });
        return true;
    }

    bool export_json(const std::string& id, const std::string& name, plugin::HttpResponse& res) {
        if (host_.run_status(id).empty()) return not_found(id, res);
        res.set_status(200);
        res.set_header("Content-Type", "application/json");
        res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
        std::ostream& out = res.body();
        std::string head;
        plugin::append_json_string(head, id);
        // The run's description (name, the user's notes and tags ...) travels with its points.
        std::string run = host_.run_info(id);
        out << "{\"session_id\":" << head << ",\"run\":" << (run.empty() ? "null" : run) << ",\"series\":[";
        std::string current;
        int current_rank = -1;
        bool any = false;
        host_.for_each_point(id, [&](std::string_view metric, int rank, const plugin::Point& p) {
            if (!any || metric != current || rank != current_rank) {
                std::string name;
                plugin::append_json_string(name, metric);
                out << (any ? "]}," : "") << "{\"metric\":" << name << ",\"rank\":" << rank << ",\"points\":[";
                current = std::string(metric);
                current_rank = rank;
                any = true;
            } else {
                out << ',';
            }
            std::string v;
            plugin::append_json_number(v, p.value);
            char t[32];
            std::snprintf(t, sizeof t, "%.3f", p.t_ms);
            out << '[' << p.step << ',' << t << ',' << v << ']';
        });
        out << (any ? "]}" : "") << "]}";
        return true;
    }

    plugin::Host& host_;
};

const char* const kRoutes[] = {"/api/runs/{id}/export.csv", "/api/runs/{id}/export.json", nullptr};

const plugin::PluginDescriptor kDescriptor = {
    plugin::kAbiVersion,
    sizeof(plugin::PluginDescriptor),
    "export",
    "every point of a run as CSV or JSON, streamed at full resolution",
    "1.0",
    nullptr,
    0,
    kRoutes,
    [](plugin::Host& host, const plugin::Settings&) -> plugin::Plugin* { return new ExportPlugin(host); },
    [](plugin::Plugin* p) { delete p; },
};

}  // namespace
}  // namespace trainscope::plugins

TRAINSCOPE_PLUGIN(trainscope::plugins::kDescriptor)
