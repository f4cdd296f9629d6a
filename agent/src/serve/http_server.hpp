// The agent's HTTP front end: REST API, Prometheus /metrics, the dashboard's static files,
// and the WebSocket endpoint, all on one Poco HTTPServer.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace Poco::Net {
class HTTPServer;
}

namespace trainscope::agent {

class Collector;
class PluginHost;
class Shipper;
class RequestGate;
class AccessCheck;
class RunReader;
class PgListener;
class RunAdmin;

/// What request handlers may use. Every member outlives the server.
struct AgentContext {
    std::string version;
    std::string db_path;
    std::string web_dir;       ///< holds static/ and node_modules/
    Collector* collector = nullptr;
    PluginHost* plugins = nullptr;  ///< may serve routes before the built-in API
    const Shipper* forward = nullptr;  ///< forwarding to PostgreSQL (--postgres); null: none
    const PgListener* hub_listener = nullptr;  ///< a hub's live link to PostgreSQL; null: not a hub
    const RequestGate* gate = nullptr;  ///< Host/Origin checks before any route; null: none
    const AccessCheck* access = nullptr;  ///< the token check after the gate; null: none
    /// Opens a reader of the runs for one request; null: Queries on db_path. A hub
    /// (--hub) reads PostgreSQL.
    std::function<std::unique_ptr<RunReader>()> reader;
    /// The runs table, edits, deletion and /metrics' run figures on a hub (PostgreSQL);
    /// null: the collector and SQLite at db_path do them.
    RunAdmin* run_admin = nullptr;
    /// Serves /ws; null until a hub is attached.
    std::function<Poco::Net::HTTPRequestHandler*()> websocket;
    /// Connected WebSocket clients, for /metrics.
    std::function<std::size_t()> websocket_clients;
    /// /metrics keeps a run's series this long after it ended (--metrics-keep-ended).
    double metrics_keep_ended_s = 900;
};

/// The reader a request uses (AgentContext::reader, else the SQLite at db_path).
std::unique_ptr<RunReader> open_reader(const AgentContext& ctx);

/// At most this many trainscope_metric_last series in one /metrics answer: Prometheus
/// stores every series it sees, so a run with many metrics must not flood it.
inline constexpr std::size_t kMaxExposedSeries = 10'000;

class RouteTable;

/// The table every request goes through (route_table.hpp), in the order routes are tried:
/// the dashboard's files, plugins' routes, the REST API, /healthz and /metrics.
RouteTable make_routes(const AgentContext& ctx);
void add_static_routes(RouteTable& routes, const AgentContext& ctx);
void add_api_routes(RouteTable& routes, const AgentContext& ctx);
/// The page shown instead of the dashboard to a browser without the token (401).
void handle_sign_in(const AgentContext& ctx, Poco::Net::HTTPServerRequest& request,
                    Poco::Net::HTTPServerResponse& response);
void handle_prometheus(const AgentContext& ctx, Poco::Net::HTTPServerResponse& response);
/// The /healthz body: liveness (always "ok" with 200) and the store's health.
std::string healthz_json(const AgentContext& ctx);

class HttpServer {
public:
    HttpServer(const AgentContext& ctx, const std::string& bind, unsigned short port);
    ~HttpServer();
    /// The port actually bound (useful with --port 0).
    unsigned short port() const;
    void stop();

private:
    std::unique_ptr<RouteTable> routes_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace trainscope::agent
