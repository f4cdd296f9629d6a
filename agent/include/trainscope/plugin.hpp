// Trainscope plugin API: what a plugin author includes. Read plugins/README.md first, then
// plugins/velocity/ (the canonical example).
//
// A plugin is a shared library exporting one C function, trainscope_plugin_descriptor(),
// that returns a PluginDescriptor: its name, settings (as data), and a factory. The agent
// checks abi_version and struct_size before it reads anything else.
//
// Lifecycle and failure policy (enforced by the agent's plugin host):
//  * create() runs once at agent start. If it throws or returns null, the plugin is disabled
//    with a log line naming it; the agent and the other plugins carry on.
//  * Each plugin gets a thread of its own. on_points(), on_run_event() and on_tick() are
//    called on that thread only, never on the collector's, so a plugin needs no locks for
//    state it touches only there.
//  * A callback that throws disables the plugin (one log line). A callback that takes longer
//    than the host's budget (default 2 s) is logged; while a plugin is busy its input queue
//    is bounded, and batches that do not fit are skipped and counted, never waited for.
//  * handle_http() runs on an HTTP server thread, concurrently with the callbacks above:
//    guard shared state with a mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace trainscope::plugin {
inline namespace v1 {

/// Bumped whenever anything in this header changes shape (2: Host::run_processes).
constexpr std::uint32_t kAbiVersion = 2;

/// One stored point. t_ms is Unix milliseconds; value may be NaN or infinite.
struct Point {
    std::int64_t step;
    double t_ms;
    double value;
    std::int64_t seq;
};

/// New points of one series, in arrival order.
struct SeriesPoints {
    std::string_view session_id;
    int rank;
    std::string_view metric;
    const Point* points;
    std::size_t count;
};

/// An alert, sent to browsers as {"type":"alert", ...} and kept with the run.
struct Alert {
    std::string kind;      ///< e.g. "nan", "divergence", "stall"
    std::string severity;  ///< "warning" or "critical"
    std::string metric;    ///< the series it concerns, may be empty
    std::int64_t step = 0; ///< where it happened
    std::string message;   ///< one human sentence
};

/// A trainer process of a live run on this host: one rank's segment.
struct RunProcess {
    std::int64_t pid;
    int rank;
    /// The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), as
    /// its segment says. Pids are reused: compare it before trusting anything read for pid.
    std::uint64_t start_time;
};

/// A request under a route the plugin claimed. Segments are percent-decoded.
struct HttpRequest {
    std::vector<std::string> segments;          ///< the whole path, e.g. {"api","runs",ID,"export.csv"}
    std::map<std::string, std::string> query;
};

/// The reply. Set status and headers before the first write to body().
class HttpResponse {
public:
    virtual ~HttpResponse() = default;
    virtual void set_status(int status) = 0;
    virtual void set_header(const std::string& name, const std::string& value) = 0;
    /// Chunked: write as much as you like, nothing is held in memory.
    virtual std::ostream& body() = 0;
};

/// What the agent offers a plugin. Thread-safe: callable from any plugin thread.
class Host {
public:
    virtual ~Host() = default;
    /// Appends a point to a derived series (stored and charted like a trainer's series).
    /// The series is named "<plugin>/<name>".
    virtual void publish_point(std::string_view session_id, std::string_view name,
                               std::int64_t step, double value) = 0;
    /// Publishes the plugin's current statistics for a run: a JSON object, sent to browsers
    /// as {"type":"analytics","plugin":...,"session_id":...,"stats":{...}} and served at
    /// GET /api/runs/{id}/analytics.
    virtual void publish_stats(std::string_view session_id, std::string json_object) = 0;
    virtual void raise_alert(std::string_view session_id, const Alert& alert) = 0;
    /// The run's config as the trainer set it (JSON text), "" if none or unknown.
    virtual std::string run_config(std::string_view session_id) = 0;
    /// The run's status: "running", "finished", "crashed", or "" if unknown.
    virtual std::string run_status(std::string_view session_id) = 0;
    /// Streams every stored point of a run: (metric, rank, point), in (metric, rank, seq)
    /// order. Returns false if the run is unknown.
    virtual bool for_each_point(
        std::string_view session_id,
        const std::function<void(std::string_view metric, int rank, const Point&)>& fn) = 0;
    /// Logs one line, prefixed with the plugin's name. level: "info", "warning", "error".
    virtual void log(std::string_view level, std::string_view message) = 0;
    /// The trainer processes of a run that write to this host's agent now (one per attached
    /// segment); empty for an ended or unknown run. A process that just died may still be
    /// listed until its segment is drained.
    virtual std::vector<RunProcess> run_processes(std::string_view session_id) = 0;
};

/// A plugin instance. Override what you need.
class Plugin {
public:
    virtual ~Plugin() = default;
    /// Points as they are stored. When the agent starts, the stored points of its newest runs
    /// come first (each run in seq order, then "run_ended" if it ended), so statistics survive
    /// a restart; what the plugin publishes meanwhile is kept except derived points and alerts,
    /// which the first agent stored already.
    virtual void on_points(const std::vector<SeriesPoints>& /*batch*/) {}
    /// kind: "run_started", "run_ended", or "run_deleted" (the run and its points were deleted:
    /// forget what you keep of it).
    virtual void on_run_event(std::string_view /*kind*/, std::string_view /*session_id*/) {}
    /// Called about once a second; now_ms is Unix milliseconds.
    virtual void on_tick(double /*now_ms*/) {}
    /// Serves a request on a route the descriptor claimed. Return false for "not mine" (404).
    virtual bool handle_http(const HttpRequest& /*request*/, HttpResponse& /*response*/) {
        return false;
    }
};

/// A setting, declared as data: the agent validates it, fills defaults and lists it.
struct Setting {
    const char* name;
    const char* type;           ///< "int", "double", "string", "bool"
    const char* default_value;
    const char* description;
};

/// Settings as the agent resolved them (defaults, overridden by --plugin-option).
using Settings = std::map<std::string, std::string>;

struct PluginDescriptor {
    std::uint32_t abi_version;  ///< kAbiVersion: checked first
    std::uint32_t struct_size;  ///< sizeof(PluginDescriptor): checked second
    const char* name;           ///< [a-z0-9_]+; names its derived series and /api/plugins/<name>/
    const char* description;
    const char* version;
    const Setting* settings;
    std::size_t setting_count;
    /// Extra routes the plugin serves, as path patterns with "{id}" for a run id, e.g.
    /// "/api/runs/{id}/export.csv". Null-terminated array, or null. Every plugin also gets
    /// /api/plugins/<name>/... .
    const char* const* routes;
    Plugin* (*create)(Host& host, const Settings& settings);
    void (*destroy)(Plugin* plugin);
};

/// The one entry point a plugin library exports.
using DescriptorFn = const PluginDescriptor* (*)();
constexpr const char* kEntryPoint = "trainscope_plugin_descriptor";

}  // namespace v1
}  // namespace trainscope::plugin

/// Exports a descriptor: TRAINSCOPE_PLUGIN(my_descriptor);
#define TRAINSCOPE_PLUGIN(descriptor)                                                     \
    extern "C" __attribute__((visibility("default")))                                   \
    const ::trainscope::plugin::PluginDescriptor* trainscope_plugin_descriptor() {     \
        return &(descriptor);                                                            \
    }
