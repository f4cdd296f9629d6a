#include "plugins/plugin_host.hpp"

#include <Poco/DirectoryIterator.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>

#include "plugins/loaded_plugin.hpp"
#include "plugins/plugin_http.hpp"
#include "plugins/plugin_loader.hpp"
#include "serve/json_out.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

PluginHost::PluginHost(PluginSinks sinks, PluginHostOptions options, Poco::Logger& log)
    : sinks_(std::move(sinks)), options_(std::move(options)), log_(log) {}

PluginHost::~PluginHost() {
    stop();
    for (auto& p : plugins_)
        if (p->instance) {
            try {
                p->descriptor->destroy(p->instance);
            } catch (...) {
            }
        }
    // Libraries stay mapped until exit: code from them may still be on some stack.
    for (auto& p : plugins_) p->library.release();
}

void PluginHost::load_dir(const std::string& dir) {
    std::vector<std::string> paths;
    try {
        // Every *.so entry, whatever it is: load() refuses (and lists) what is not a regular
        // file; isFile() here would follow symlinks, and throw on a dangling one.
        for (Poco::DirectoryIterator it(dir), end; it != end; ++it)
            if (it.name().size() > 3 && it.name().compare(it.name().size() - 3, 3, ".so") == 0)
                paths.push_back(it.path().toString());
    } catch (const std::exception& e) {
        log_.warning("plugins: cannot read %s: %s", dir, std::string(e.what()));
        return;
    }
    std::sort(paths.begin(), paths.end());
    for (const std::string& path : paths) load(path);
}

PluginStatus PluginHost::load(const std::string& path) {
    OpenedPlugin opened = open_plugin(path, options_.settings, [this](const std::string& name) {
        return std::any_of(plugins_.begin(), plugins_.end(),
                           [&](const auto& p) { return p->status.name == name; });
    });
    PluginStatus status{opened.name, path, "refused", "", 0, 0};
    auto refuse = [&](const std::string& why) {
        status.reason = why;
        log_.error("plugin %s refused: %s", path, why);
        refused_.push_back(status);
        return status;
    };
    if (!opened.refusal.empty()) return refuse(opened.refusal);
    if (auto skip = options_.not_here.find(opened.name); skip != options_.not_here.end()) {
        status.state = "not_here";
        status.reason = skip->second;
        log_.information("plugin %s not loaded here: %s", opened.name, skip->second);
        refused_.push_back(status);
        return status;
    }
    const plugin::PluginDescriptor* d = opened.descriptor;
    auto loaded = std::make_unique<Loaded>();
    loaded->services = std::make_unique<HostServices>(*this, status.name);
    try {
        loaded->instance = d->create(*loaded->services, opened.settings);
    } catch (const std::exception& e) {
        return refuse(std::string("create() threw: ") + e.what());
    } catch (...) {
        return refuse("create() threw");
    }
    if (!loaded->instance) return refuse("create() returned null");
    status.state = "enabled";
    loaded->library = std::move(opened.library);
    loaded->descriptor = d;
    loaded->status = status;
    log_.information("plugin %s %s loaded from %s", status.name,
                     std::string(d->version ? d->version : "?"), path);
    plugins_.push_back(std::move(loaded));
    if (started_) {
        Loaded& p = *plugins_.back();
        p.loaded_after_start = true;
        p.thread = std::thread([this, &p] { worker(p); });
    }
    return status;
}

void PluginHost::start() {
    // Called before the collector starts: the runs' last_seq read here splits what plugins
    // are fed from the database (seq <= last_seq) from what the collector sends them.
    catch_up_.clear();
    if (options_.source && options_.catch_up_points > 0 && !plugins_.empty()) {
        try {
            options_.source->plan_catch_up(options_.catch_up_points);
        } catch (const std::exception& e) {
            log_.warning("plugins: cannot read stored runs to catch up on: %s", std::string(e.what()));
        }
    } else if (options_.catch_up_points > 0 && !plugins_.empty()) {
        try {
            Queries q(options_.db_path);
            std::int64_t budget = options_.catch_up_points;
            for (const RunInfo& run : q.runs()) {  // newest first
                if (run.last_seq <= 0 || run.points > budget) continue;
                budget -= run.points;
                catch_up_.push_back(CatchUp{run.session_id, run.last_seq, run.status != "running"});
            }
            std::reverse(catch_up_.begin(), catch_up_.end());
        } catch (const std::exception& e) {
            log_.warning("plugins: cannot read stored runs to catch up on: %s", std::string(e.what()));
            catch_up_.clear();
        }
    }
    started_ = true;
    for (auto& p : plugins_) {
        Loaded& ref = *p;
        p->thread = std::thread([this, &ref] { worker(ref); });
    }
}

void PluginHost::stop() {
    stopping_ = true;
    for (auto& p : plugins_) {
        p->wake.notify_all();
        if (p->thread.joinable()) p->thread.join();
    }
}

std::vector<PluginHost::Route> PluginHost::routes() const {
    std::vector<Route> out;
    for (const auto& p : plugins_) {
        out.push_back(Route{p->status.name, "api/plugins/" + p->status.name + "/**"});
        for (const char* const* r = p->descriptor->routes; r && *r; ++r) out.push_back(Route{p->status.name, *r});
    }
    return out;
}

bool PluginHost::handle_http(const std::string& plugin, const std::vector<std::string>& segments,
                             const std::map<std::string, std::string>& query,
                             Poco::Net::HTTPServerResponse& response) {
    for (auto& p : plugins_) {
        if (p->status.name != plugin) continue;
        if (!p->enabled) throw std::runtime_error("plugin " + p->status.name + " is disabled: " + p->status.reason);
        PluginHttpResponse reply(response);
        plugin::HttpRequest request{segments, query};
        struct ServingHttp {
            ServingHttp() { HostServices::serving_http = true; }
            ~ServingHttp() { HostServices::serving_http = false; }
        } serving;
        if (!p->instance->handle_http(request, reply) && !response.sent()) return false;
        reply.finish();
        return true;
    }
    return false;
}

std::vector<PluginStatus> PluginHost::status() const {
    std::vector<PluginStatus> out;
    for (const auto& p : plugins_) {
        std::lock_guard<std::mutex> lock(p->mutex);
        out.push_back(p->status);
    }
    out.insert(out.end(), refused_.begin(), refused_.end());
    return out;
}

void PluginHost::store_stats(const std::string& plugin, const std::string& session, const std::string& json) {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    stats_[session][plugin] = json;
}

std::string PluginHost::analytics_json(const std::string& session_id) const {
    if (options_.source)
        if (auto elsewhere = options_.source->analytics_json(session_id)) return *elsewhere;
    std::lock_guard<std::mutex> lock(stats_mutex_);
    rapidjson::StringBuffer buf;
    JsonOut w(buf);
    w.StartObject();
    if (auto it = stats_.find(session_id); it != stats_.end())
        for (const auto& [plugin, json] : it->second) {
            w.Key(plugin.c_str());
            w.RawValue(json.data(), json.size(), rapidjson::kObjectType);  // checked by publish_stats
        }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace trainscope::agent
