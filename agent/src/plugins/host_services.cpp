#include "plugins/host_services.hpp"

#include <Poco/Logger.h>
#include <rapidjson/document.h>

#include <trainscope/detail/clock.hpp>

#include "plugins/plugin_host.hpp"
#include "serve/json_out.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

thread_local bool HostServices::serving_http = false;

template <typename T, typename Read>
T HostServices::from_source(const char* what, T fallback, Read read) {
    if (serving_http) return read();
    try {
        return read();
    } catch (const std::exception& e) {
        // One line a minute per plugin while the store stays away, not one per tick.
        auto now = std::chrono::steady_clock::now();
        if (now - last_source_error_ > std::chrono::minutes(1)) {
            last_source_error_ = now;
            host_.log_.warning("plugin %s: %s failed (answered as unknown): %s", name_, std::string(what),
                               std::string(e.what()));
        }
        return fallback;
    }
}

void HostServices::publish_point(std::string_view session, std::string_view name, std::int64_t step,
                                 double value) {
    if (host_.sinks_.point && !catching_up)
        host_.sinks_.point(std::string(session), name_ + "/" + std::string(name), step, value);
}

void HostServices::publish_stats(std::string_view session, std::string json) {
    std::string s(session);
    rapidjson::Document doc;
    if (doc.Parse(json.c_str()).HasParseError() || !doc.IsObject()) {
        host_.log_.error("plugin %s: publish_stats got something other than a JSON object", name_);
        return;
    }
    host_.store_stats(name_, s, json);
    if (host_.sinks_.stats) host_.sinks_.stats(name_, s, json);
    if (!host_.sinks_.broadcast) return;
    host_.sinks_.broadcast(s, analytics_message(name_, s, json));  // parsed just above
}

void HostServices::raise_alert(std::string_view session, const plugin::Alert& a) {
    if (catching_up) return;
    std::string s(session);
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    w.Key("type"); w.String("alert");
    w.Key("plugin"); write_string(w, name_);
    w.Key("session_id"); write_string(w, s);
    w.Key("kind"); write_string(w, a.kind);
    w.Key("severity"); write_string(w, a.severity);
    w.Key("metric"); write_string(w, a.metric);
    w.Key("step"); w.Int64(a.step);
    w.Key("message"); write_string(w, a.message);
    w.Key("t_ms"); write_ms(w, static_cast<double>(detail::now_unix_ns()) / 1e6);
    w.EndObject();
    std::string json = buf.GetString();
    host_.log_.warning("plugin %s: alert for run %s: %s", name_, s, a.message);
    if (host_.sinks_.event) host_.sinks_.event(s, "alert", json);
    if (host_.sinks_.broadcast) host_.sinks_.broadcast(s, json);
}

std::string HostServices::run_config(std::string_view session) {
    if (host_.options_.source)
        return from_source("run_config", std::string(),
                           [&] { return host_.options_.source->run_config(std::string(session)).value_or(""); });
    Queries q(host_.options_.db_path);
    return q.run_text(std::string(session), "config").value_or("");
}

std::string HostServices::run_info(std::string_view session) {
    std::optional<RunInfo> run;
    if (host_.options_.source) {
        run = from_source("run_info", std::optional<RunInfo>(),
                          [&] { return host_.options_.source->run(std::string(session)); });
    } else {
        Queries q(host_.options_.db_path);
        run = q.run(std::string(session));
    }
    if (!run) return "";
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    write_run(w, *run, 0);
    return buf.GetString();
}

std::string HostServices::run_status(std::string_view session) {
    if (host_.options_.source) {
        auto run = from_source("run_status", std::optional<RunInfo>(),
                               [&] { return host_.options_.source->run(std::string(session)); });
        return run ? run->status : "";
    }
    Queries q(host_.options_.db_path);
    auto run = q.run(std::string(session));
    return run ? run->status : "";
}

bool HostServices::for_each_point(std::string_view session,
                                  const std::function<void(std::string_view, int, const plugin::Point&)>& fn) {
    if (host_.options_.source) {
        std::int64_t n = 0;
        return from_source("for_each_point", false, [&] {
            return host_.options_.source->for_each_point(
                std::string(session), [&](std::string_view metric, int rank, std::int64_t step, std::int64_t t_us,
                                          double value) {
                    fn(metric, rank, plugin::Point{step, static_cast<double>(t_us) / 1000.0, value, ++n});
                });
        });
    }
    Queries q(host_.options_.db_path);
    if (!q.run(std::string(session))) return false;
    std::int64_t n = 0;
    q.for_each_point(std::string(session), [&](std::string_view metric, int rank, std::int64_t step,
                                               std::int64_t t_us, double value) {
        fn(metric, rank, plugin::Point{step, static_cast<double>(t_us) / 1000.0, value, ++n});
    });
    return true;
}

std::vector<plugin::RunProcess> HostServices::run_processes(std::string_view session) {
    if (!host_.sinks_.processes) return {};
    return host_.sinks_.processes(std::string(session));
}

void HostServices::log(std::string_view level, std::string_view message) {
    std::string text = "plugin " + name_ + ": " + std::string(message);
    if (level == "error") host_.log_.error(text);
    else if (level == "warning") host_.log_.warning(text);
    else host_.log_.information(text);
}

}  // namespace trainscope::agent
