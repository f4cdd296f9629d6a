// Which requests the agent serves at all, before any route: the Host and Origin checks.
//
// DNS rebinding: a page on evil.example re-points its name at 127.0.0.1 and then reads our
// REST API as its own origin. The browser still sends `Host: evil.example`, so only Host
// values that name this agent are served (loopback names and addresses, the bind address,
// this machine's host name and interface addresses, and --public-host names); any other gets
// 421 Misdirected Request.
// Cross-site WebSocket hijacking: any page may open ws://127.0.0.1:7070/ws, and the browser
// sends its own Origin. A WebSocket upgrade (or a state-changing method) whose Origin is not
// this agent's own origin (http://<Host>) or one given with --allow-origin gets 403. No
// Origin at all (a script or a tool, not a browser page) is allowed: the token (issue 12)
// is what guards those.
// Each refused Host or Origin value is logged once (at most kMaxLogged distinct values).
#pragma once

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace trainscope::agent {

struct GateOptions {
    std::string bind;                          ///< the listening address
    std::vector<std::string> public_hosts;     ///< --public-host: names a proxy serves us under
    std::vector<std::string> allowed_origins;  ///< --allow-origin: e.g. https://dash.example
};

struct GateRefusal {
    int status;
    std::string message;
};

class RequestGate {
public:
    RequestGate(const GateOptions& options, Poco::Logger& log);

    /// Why `request` must not be served, or nothing if it may be.
    std::optional<GateRefusal> check(const Poco::Net::HTTPServerRequest& request) const;

    /// The host part of a Host header value, lowercased, without port, brackets or a final dot:
    /// "LocalHost:7070" -> "localhost", "[::1]:7070" -> "::1".
    static std::string host_name(const std::string& host_header);
    /// Whether `name` (as host_name() returns it) is a loopback name or address.
    static bool is_loopback(const std::string& name);

    /// The host names and addresses this agent answers to (for the start-up log).
    const std::set<std::string>& hosts() const { return hosts_; }

private:
    bool host_allowed(const std::string& name) const;
    void log_once(const std::string& what, const std::string& value) const;

    std::set<std::string> hosts_;
    std::set<std::string> origins_;
    Poco::Logger& log_;
    static constexpr std::size_t kMaxLogged = 1000;
    mutable std::mutex logged_mutex_;
    mutable std::set<std::string> logged_;
};

}  // namespace trainscope::agent
