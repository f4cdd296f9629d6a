// Every HTTP request but the WebSocket upgrade goes through one table of (method, pattern,
// handler): the dashboard's files, the REST API, plugins' routes, /healthz and /metrics.
// A pattern is a path of literal segments, "{name}" (one segment, captured) and a final "**"
// (any number of segments, captured as "**" joined by '/'). Segments are compared decoded,
// so a metric "train/loss" travels as one segment "train%2Floss".
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace trainscope::agent {

/// One request as a handler sees it.
struct RouteRequest {
    Poco::Net::HTTPServerRequest& request;
    Poco::Net::HTTPServerResponse& response;
    std::vector<std::string> segments;              ///< the decoded path
    std::map<std::string, std::string> captures;    ///< "{id}" -> its segment
    const std::string& operator[](const std::string& name) const { return captures.at(name); }
};

/// Answers the request, or returns false (having sent nothing) to let a later route try.
/// Throws HttpError for an error reply.
using RouteHandler = std::function<bool(RouteRequest&)>;

class RouteTable {
public:
    /// `method` "GET" also answers HEAD. Routes are tried in the order they were added.
    void add(std::string method, const std::string& pattern, RouteHandler handler);

    /// Serves the request through the first route that matches and accepts it. Throws
    /// HttpError: 405 if the path is served only by other methods (or no route takes this
    /// method), 404 if nothing matches.
    void dispatch(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

    struct Entry {
        std::string method;
        std::string pattern;
        std::vector<std::string> parts;
        RouteHandler handler;
    };
    const std::vector<Entry>& entries() const { return entries_; }

    /// Whether `parts` (a pattern split on '/') matches segments; fills captures if so.
    static bool matches(const std::vector<std::string>& parts, const std::vector<std::string>& segments,
                        std::map<std::string, std::string>* captures);

private:
    std::vector<Entry> entries_;
};

}  // namespace trainscope::agent
