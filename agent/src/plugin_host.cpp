#include "plugin_host.hpp"

#include <Poco/DirectoryIterator.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/SharedLibrary.h>
#include <rapidjson/document.h>

#include <trainscope/detail/clock.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <regex>

#include <unistd.h>

#include "json_out.hpp"
#include "plugin_file.hpp"
#include "queries.hpp"

namespace trainscope::agent {

using Clock = std::chrono::steady_clock;

namespace {

/// One commit's points in the plugin API's shape, shared by every plugin's queue.
struct Batch {
    std::vector<SeriesUpdate> updates;
    std::vector<std::vector<plugin::Point>> points;
    std::vector<plugin::SeriesPoints> series;
    std::size_t total = 0;
};

struct Work {
    std::shared_ptr<const Batch> batch;  ///< or, when null, a run event:
    std::string kind;
    std::string session;
};

/// Shares one commit's updates in the shape plugins read.
std::shared_ptr<const Batch> make_batch(std::vector<SeriesUpdate> updates) {
    auto batch = std::make_shared<Batch>();
    batch->updates = std::move(updates);
    batch->points.reserve(batch->updates.size());
    for (const SeriesUpdate& u : batch->updates) {
        std::vector<plugin::Point> pts;
        pts.reserve(u.points.size());
        for (const StoredPoint& p : u.points) pts.push_back(plugin::Point{p.step, p.t_ms, p.value, p.seq});
        batch->total += pts.size();
        batch->points.push_back(std::move(pts));
    }
    for (std::size_t i = 0; i < batch->updates.size(); ++i) {
        const SeriesUpdate& u = batch->updates[i];
        batch->series.push_back(plugin::SeriesPoints{u.session_id, u.rank, u.metric,
                                                     batch->points[i].data(), batch->points[i].size()});
    }
    return batch;
}

bool route_matches(const char* pattern, const std::vector<std::string>& segments) {
    std::vector<std::string> parts;
    std::string p = pattern;
    for (std::size_t i = 0; i < p.size();) {
        std::size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        if (j > i) parts.push_back(p.substr(i, j - i));
        i = j + 1;
    }
    if (parts.size() != segments.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i)
        if (parts[i] != "{id}" && parts[i] != segments[i]) return false;
    return true;
}

/// A chunked HTTP reply over Poco's response.
class PocoHttpResponse : public plugin::HttpResponse {
public:
    explicit PocoHttpResponse(Poco::Net::HTTPServerResponse& r) : r_(r) {}
    void set_status(int status) override {
        r_.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    }
    void set_header(const std::string& name, const std::string& value) override { r_.set(name, value); }
    std::ostream& body() override {
        if (!out_) {
            r_.setChunkedTransferEncoding(true);
            out_ = &r_.send();
        }
        return *out_;
    }
    void finish() {
        if (!out_) body();
    }

private:
    Poco::Net::HTTPServerResponse& r_;
    std::ostream* out_ = nullptr;
};

}  // namespace

/// The Host a plugin sees: knows which plugin it serves, forwards to the agent's sinks.
class HostServices : public plugin::Host {
public:
    HostServices(PluginHost& host, std::string name) : host_(host), name_(std::move(name)) {}

    /// While the plugin catches up on stored points, what it derives from them is stored
    /// already (derived points, alerts): only its statistics are kept.
    std::atomic<bool> catching_up{false};

    void publish_point(std::string_view session, std::string_view name, std::int64_t step,
                       double value) override {
        if (host_.sinks_.point && !catching_up)
            host_.sinks_.point(std::string(session), name_ + "/" + std::string(name), step, value);
    }
    void publish_stats(std::string_view session, std::string json) override {
        std::string s(session);
        rapidjson::Document doc;
        if (doc.Parse(json.c_str()).HasParseError() || !doc.IsObject()) {
            host_.log_.error("plugin %s: publish_stats got something other than a JSON object", name_);
            return;
        }
        host_.store_stats(name_, s, json);
        if (!host_.sinks_.broadcast) return;
        std::string msg = "{\"type\":\"analytics\",\"plugin\":\"" + name_ + "\",\"session_id\":";
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        write_string(w, s);
        msg += buf.GetString();
        msg += ",\"stats\":" + json + "}";
        host_.sinks_.broadcast(s, msg);
    }
    void raise_alert(std::string_view session, const plugin::Alert& a) override {
        if (catching_up) return;
        std::string s(session);
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
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
    std::string run_config(std::string_view session) override {
        Queries q(host_.options_.db_path);
        return q.run_text(std::string(session), "config").value_or("");
    }
    std::string run_status(std::string_view session) override {
        Queries q(host_.options_.db_path);
        auto run = q.run(std::string(session));
        return run ? run->status : "";
    }
    bool for_each_point(std::string_view session,
                        const std::function<void(std::string_view, int, const plugin::Point&)>& fn) override {
        Queries q(host_.options_.db_path);
        if (!q.run(std::string(session))) return false;
        std::int64_t n = 0;
        q.for_each_point(std::string(session), [&](std::string_view metric, int rank, std::int64_t step,
                                                   std::int64_t t_us, double value) {
            fn(metric, rank, plugin::Point{step, static_cast<double>(t_us) / 1000.0, value, ++n});
        });
        return true;
    }
    void log(std::string_view level, std::string_view message) override {
        std::string text = "plugin " + name_ + ": " + std::string(message);
        if (level == "error") host_.log_.error(text);
        else if (level == "warning") host_.log_.warning(text);
        else host_.log_.information(text);
    }

private:
    PluginHost& host_;
    std::string name_;
};

struct PluginHost::Loaded {
    std::unique_ptr<Poco::SharedLibrary> library;
    const plugin::PluginDescriptor* descriptor = nullptr;
    std::unique_ptr<HostServices> services;
    plugin::Plugin* instance = nullptr;
    PluginStatus status;
    std::atomic<bool> enabled{true};
    bool loaded_after_start = false;  ///< then it only sees points from its load on
    std::mutex mutex;  ///< guards queue, queued_points, status counters
    std::condition_variable wake;
    std::deque<Work> queue;
    std::size_t queued_points = 0;
    std::uint64_t skipped_since_log = 0;
    Clock::time_point last_skip_log{};
    std::thread thread;
};

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
    PluginStatus status{"", path, "refused", "", 0, 0};
    auto refuse = [&](const std::string& why) {
        status.reason = why;
        log_.error("plugin %s refused: %s", path, why);
        refused_.push_back(status);
        return status;
    };
    PluginFile file = open_plugin_file(path);
    if (file.fd < 0) return refuse(file.refusal);
    // dlopen reaches the file through its open descriptor, so the library that runs is the
    // file just checked even if the directory entry is swapped meanwhile.
    std::string via = load_path(file.fd);
    auto lib = std::make_unique<Poco::SharedLibrary>();
    try {
        lib->load(via);
    } catch (const Poco::Exception& e) {
        ::close(file.fd);
        std::string why = e.displayText();
        for (std::size_t at = why.find(via); at != std::string::npos; at = why.find(via, at + path.size()))
            why.replace(at, via.size(), path);  // name the file, not the descriptor
        return refuse("not a loadable library (" + why + ")");
    }
    // The descriptor stays open for good, as the library stays mapped: glibc now knows the
    // library by the name /proc/self/fd/N, and would hand it out again for a later dlopen of
    // that name if the number were reused for another file.
    if (!lib->hasSymbol(plugin::kEntryPoint))
        return refuse(std::string("no ") + plugin::kEntryPoint + "() entry point");
    auto entry = reinterpret_cast<plugin::DescriptorFn>(lib->getSymbol(plugin::kEntryPoint));
    const plugin::PluginDescriptor* d = nullptr;
    try {
        d = entry();
    } catch (...) {
        return refuse("entry point threw");
    }
    if (!d) return refuse("entry point returned no descriptor");
    // ABI version first, then size: nothing else in the struct is read before both match.
    if (d->abi_version != plugin::kAbiVersion)
        return refuse("ABI version " + std::to_string(d->abi_version) + ", expected " +
                      std::to_string(plugin::kAbiVersion));
    if (d->struct_size != sizeof(plugin::PluginDescriptor))
        return refuse("descriptor size " + std::to_string(d->struct_size) + ", expected " +
                      std::to_string(sizeof(plugin::PluginDescriptor)));
    if (!d->name || !std::regex_match(d->name, std::regex("[a-z0-9_]{1,40}")))
        return refuse("plugin name must be 1..40 characters of [a-z0-9_]");
    status.name = d->name;
    for (const auto& p : plugins_)
        if (p->status.name == status.name) return refuse("a plugin named " + status.name + " is loaded already");
    if (!d->create || !d->destroy) return refuse("descriptor lacks create/destroy");

    // Settings: declared defaults, overridden by --plugin-option, checked against their type.
    plugin::Settings settings;
    for (std::size_t i = 0; i < d->setting_count && d->settings; ++i)
        settings[d->settings[i].name] = d->settings[i].default_value ? d->settings[i].default_value : "";
    if (auto it = options_.settings.find(status.name); it != options_.settings.end())
        for (const auto& [key, value] : it->second) {
            if (!settings.count(key)) return refuse("unknown setting '" + key + "'");
            settings[key] = value;
        }

    auto loaded = std::make_unique<Loaded>();
    loaded->services = std::make_unique<HostServices>(*this, status.name);
    try {
        loaded->instance = d->create(*loaded->services, settings);
    } catch (const std::exception& e) {
        return refuse(std::string("create() threw: ") + e.what());
    } catch (...) {
        return refuse("create() threw");
    }
    if (!loaded->instance) return refuse("create() returned null");
    status.state = "enabled";
    loaded->library = std::move(lib);
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
    if (options_.catch_up_points > 0 && !plugins_.empty()) {
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

void PluginHost::disable(Loaded& p, const std::string& why) {
    p.enabled = false;
    std::lock_guard<std::mutex> lock(p.mutex);
    p.status.state = "disabled";
    p.status.reason = why;
    p.queue.clear();
    p.queued_points = 0;
    log_.error("plugin %s disabled: %s", p.status.name, why);
}

/// Feeds the plugin the stored points of the runs in catch_up_, a chunk of seq at a time
/// (bounded memory), and "run_ended" for the runs that ended.
void PluginHost::catch_up(Loaded& p) {
    if (catch_up_.empty() || p.loaded_after_start) return;
    constexpr std::int64_t kChunk = 50'000;
    Clock::time_point began = Clock::now();
    std::int64_t points = 0;
    Queries q(options_.db_path);
    p.services->catching_up = true;
    for (const CatchUp& run : catch_up_) {
        for (std::int64_t since = 0; since < run.last_seq && !stopping_; since += kChunk) {
            auto batch = make_batch(q.points_since(run.session_id, since, std::min(since + kChunk, run.last_seq)));
            points += static_cast<std::int64_t>(batch->total);
            if (batch->total) p.instance->on_points(batch->series);
        }
        if (run.ended) p.instance->on_run_event("run_ended", run.session_id);
    }
    p.services->catching_up = false;
    log_.information("plugin %s caught up on %s stored runs (%s points) in %s ms", p.status.name,
                     std::to_string(catch_up_.size()), std::to_string(points),
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count()));
}

void PluginHost::worker(Loaded& p) {
    try {
        catch_up(p);
    } catch (const std::exception& e) {
        p.services->catching_up = false;
        disable(p, std::string("catching up on stored points threw: ") + e.what());
        return;
    } catch (...) {
        p.services->catching_up = false;
        disable(p, "catching up on stored points threw a non-standard exception");
        return;
    }
    Clock::time_point next_tick = Clock::now() + options_.tick;
    while (!stopping_ && p.enabled) {
        Work work;
        bool tick = false;
        {
            std::unique_lock<std::mutex> lock(p.mutex);
            p.wake.wait_until(lock, next_tick, [&] { return stopping_ || !p.queue.empty(); });
            if (stopping_) return;
            if (!p.queue.empty()) {
                work = std::move(p.queue.front());
                p.queue.pop_front();
                if (work.batch) p.queued_points -= work.batch->total;
            } else {
                tick = true;
            }
        }
        const char* what = tick ? "on_tick" : work.batch ? "on_points" : "on_run_event";
        Clock::time_point began = Clock::now();
        try {
            if (tick) p.instance->on_tick(static_cast<double>(detail::now_unix_ns()) / 1e6);
            else if (work.batch) p.instance->on_points(work.batch->series);
            else p.instance->on_run_event(work.kind, work.session);
        } catch (const std::exception& e) {
            disable(p, std::string(what) + " threw: " + e.what());
            return;
        } catch (...) {
            disable(p, std::string(what) + " threw a non-standard exception");
            return;
        }
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
        if (took > options_.slow_call)
            log_.warning("plugin %s is slow: %s took %s ms", p.status.name, std::string(what),
                         std::to_string(took.count()));
        if (work.batch) {
            std::lock_guard<std::mutex> lock(p.mutex);
            ++p.status.batches;
        }
        if (tick || Clock::now() >= next_tick) next_tick = Clock::now() + options_.tick;
    }
}

void PluginHost::on_points(const std::vector<SeriesUpdate>& updates) {
    if (plugins_.empty() || updates.empty()) return;
    std::shared_ptr<const Batch> shared = make_batch(updates);
    for (auto& p : plugins_) {
        if (!p->enabled) continue;
        std::lock_guard<std::mutex> lock(p->mutex);
        if (p->queued_points + shared->total > options_.max_queued_points) {
            // A slow plugin skips batches; it never holds up the collector.
            ++p->status.skipped_batches;
            ++p->skipped_since_log;
            if (Clock::now() - p->last_skip_log > std::chrono::seconds(10)) {
                log_.warning("plugin %s is behind: skipped %s batches", p->status.name,
                             std::to_string(p->skipped_since_log));
                p->skipped_since_log = 0;
                p->last_skip_log = Clock::now();
            }
            continue;
        }
        p->queued_points += shared->total;
        p->queue.push_back(Work{shared, "", ""});
        p->wake.notify_one();
    }
}

void PluginHost::on_run_event(const std::string& kind, const std::string& session_id) {
    for (auto& p : plugins_) {
        if (!p->enabled) continue;
        std::lock_guard<std::mutex> lock(p->mutex);
        p->queue.push_back(Work{nullptr, kind, session_id});
        p->wake.notify_one();
    }
}

bool PluginHost::handle_http(const std::vector<std::string>& segments,
                             const std::map<std::string, std::string>& query,
                             Poco::Net::HTTPServerResponse& response) {
    for (auto& p : plugins_) {
        bool claimed = segments.size() >= 3 && segments[0] == "api" && segments[1] == "plugins" &&
                       segments[2] == p->status.name;
        for (const char* const* r = p->descriptor->routes; !claimed && r && *r; ++r)
            claimed = route_matches(*r, segments);
        if (!claimed) continue;
        if (!p->enabled) throw std::runtime_error("plugin " + p->status.name + " is disabled: " + p->status.reason);
        PocoHttpResponse reply(response);
        plugin::HttpRequest request{segments, query};
        if (!p->instance->handle_http(request, reply)) {
            if (!response.sent()) return false;
        }
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
    std::lock_guard<std::mutex> lock(stats_mutex_);
    std::string out = "{";
    auto it = stats_.find(session_id);
    if (it != stats_.end()) {
        bool first = true;
        for (const auto& [plugin, json] : it->second) {
            out += (first ? "\"" : ",\"") + plugin + "\":" + json;
            first = false;
        }
    }
    return out + "}";
}

}  // namespace trainscope::agent
