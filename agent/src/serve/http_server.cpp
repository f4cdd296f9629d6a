#include "serve/http_server.hpp"

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <map>

#include "forward/pg_connection.hpp"
#include "serve/access_token.hpp"
#include "serve/http_util.hpp"
#include "plugins/plugin_host.hpp"
#include "serve/request_gate.hpp"
#include "serve/route_table.hpp"
#include "store/queries.hpp"

namespace trainscope::agent {

std::unique_ptr<RunReader> open_reader(const AgentContext& ctx) {
    if (ctx.reader) return ctx.reader();
    return std::make_unique<Queries>(ctx.db_path);
}

namespace {

/// Sends the request through the route table; every failure becomes a JSON error, so a bad
/// request never crashes the agent.
class Dispatcher : public Poco::Net::HTTPRequestHandler {
public:
    Dispatcher(const AgentContext& ctx, const RouteTable& routes, bool set_cookie)
        : ctx_(ctx), routes_(routes), set_cookie_(set_cookie) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        // Opened with ?token=: later requests carry the cookie instead.
        if (set_cookie_ && ctx_.access) ctx_.access->set_cookie(request, response);
        try {
            routes_.dispatch(request, response);
        } catch (const HttpError& e) {
            reply_error(response, e.status, e.message);
        } catch (const PgError& e) {
            // A hub whose PostgreSQL is away, or whose pooled connections are all busy.
            reply_error(response, 503, std::string("the hub cannot use PostgreSQL now: ") + e.what());
        } catch (const std::exception& e) {
            reply_error(response, 500, std::string("internal error: ") + e.what());
        } catch (...) {
            reply_error(response, 500, "internal error");
        }
    }

private:
    static void reply_error(Poco::Net::HTTPServerResponse& response, int status,
                            const std::string& message) {
        if (!response.sent()) send_error(response, status, message);
    }
    const AgentContext& ctx_;
    const RouteTable& routes_;
    bool set_cookie_;
};

/// A request the gate refused (a foreign Host or Origin): a JSON error, nothing else.
class RefusedRequest : public Poco::Net::HTTPRequestHandler {
public:
    explicit RefusedRequest(GateRefusal refusal) : refusal_(std::move(refusal)) {}
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        send_error(response, refusal_.status, refusal_.message);
    }

private:
    GateRefusal refusal_;
};

/// A request without the token: the sign-in page for a browser opening the dashboard, a
/// JSON 401 for anything else.
class Unauthorized : public Poco::Net::HTTPRequestHandler {
public:
    explicit Unauthorized(const AgentContext& ctx) : ctx_(ctx) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        const std::string& uri = request.getURI();
        bool page = uri.substr(0, uri.find('?')) == "/" && request.getMethod() == "GET";
        try {
            if (page) return handle_sign_in(ctx_, request, response);
        } catch (...) {  // the page file is missing: the JSON error below still says what to do
        }
        response.set("WWW-Authenticate", "Bearer realm=\"trainscope\"");
        send_error(response, 401,
                   "this agent needs its token: open the URL it printed (trainscope-agent --print-url "
                   "shows it), or send 'Authorization: Bearer TOKEN'");
    }

private:
    const AgentContext& ctx_;
};

class BadWebSocketRequest : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        send_error(response, 400, "/ws expects a WebSocket upgrade");
    }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    Factory(const AgentContext& ctx, const RouteTable& routes) : ctx_(ctx), routes_(routes) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest& request) override {
        if (ctx_.gate)
            if (auto refusal = ctx_.gate->check(request)) return new RefusedRequest(std::move(*refusal));
        AccessCheck::Grant grant = ctx_.access ? ctx_.access->check(request) : AccessCheck::Grant::open;
        if (grant == AccessCheck::Grant::refused) return new Unauthorized(ctx_);
        const std::string& uri = request.getURI();
        if (uri == "/ws" || uri.rfind("/ws?", 0) == 0) {
            bool upgrade = Poco::icompare(request.get("Upgrade", ""), "websocket") == 0;
            if (upgrade && ctx_.websocket) return ctx_.websocket();
            return new BadWebSocketRequest;
        }
        return new Dispatcher(ctx_, routes_, grant == AccessCheck::Grant::query);
    }

private:
    const AgentContext& ctx_;
    const RouteTable& routes_;
};

}  // namespace

RouteTable make_routes(const AgentContext& ctx) {
    RouteTable routes;
    add_static_routes(routes, ctx);
    // Plugins' routes come before the built-in API, so a plugin may serve a path under /api.
    if (PluginHost* plugins = ctx.plugins)
        for (const PluginHost::Route& route : plugins->routes())
            routes.add("GET", route.pattern, [plugins, name = route.plugin](RouteRequest& r) {
                std::map<std::string, std::string> query;
                try {
                    for (auto& [k, v] : Poco::URI(r.request.getURI()).getQueryParameters()) query[k] = v;
                } catch (const Poco::SyntaxException&) {
                    throw HttpError{400, "bad percent-encoding in query string"};
                }
                return plugins->handle_http(name, r.segments, query, r.response);
            });
    add_api_routes(routes, ctx);
    const AgentContext* c = &ctx;
    routes.add("GET", "/healthz", [c](RouteRequest& r) {
        send_json(r.response, 200, healthz_json(*c));
        return true;
    });
    routes.add("GET", "/metrics", [c](RouteRequest& r) {
        handle_prometheus(*c, r.response);
        return true;
    });
    return routes;
}

HttpServer::HttpServer(const AgentContext& ctx, const std::string& bind, unsigned short port) {
    // Not the (address, backlog) constructor: it sets SO_REUSEPORT too, and then a second agent
    // binds the same port and the kernel deals the requests out between the two.
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(bind, port), /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(64);
    auto* params = new Poco::Net::HTTPServerParams;
    // Each open WebSocket holds a thread for its lifetime: leave room for plain requests.
    params->setMaxThreads(64);
    params->setMaxQueued(256);
    params->setKeepAlive(true);
    routes_ = std::make_unique<RouteTable>(make_routes(ctx));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(ctx, *routes_), socket, params);
    server_->start();
}

HttpServer::~HttpServer() { stop(); }

unsigned short HttpServer::port() const { return server_->port(); }

void HttpServer::stop() {
    if (server_) server_->stopAll(true);
}

}  // namespace trainscope::agent
