// Who may read this agent: the holder of its token, like a Jupyter server's.
//
// Every agent start makes a random token (or takes --token / TRAINSCOPE_TOKEN). A request
// carries it as "Authorization: Bearer TOKEN" (scripts, Prometheus), as the session cookie
// the page gets when it is opened with ?token= (HttpOnly, SameSite=Strict), or as ?token=
// itself. The cookie is named after the port: browsers keep one cookie jar per host, not per
// port, and two agents on one machine must not overwrite each other's cookie.
// /healthz and the page's own code (/static, /vendor) need no token: they tell nothing
// about runs. --auth=none turns the check off (loopback binds only).
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <optional>
#include <string>

namespace trainscope::agent {

/// A fresh token: 192 random bits from the kernel, as 48 hex digits.
std::string generate_token();

/// Why `token` cannot be used (empty, too long, or a character that needs escaping in a URL),
/// or nothing if it can.
std::optional<std::string> token_problem(const std::string& token);

class AccessCheck {
public:
    /// An empty token lets every request in (--auth=none).
    explicit AccessCheck(std::string token) : token_(std::move(token)) {}

    enum class Grant {
        refused,  ///< no token, or a wrong one
        open,     ///< needs no token (auth off, or a path that tells nothing about runs)
        bearer,   ///< Authorization: Bearer
        cookie,   ///< the session cookie
        query,    ///< ?token= in the URL: the reply should set the cookie
    };

    Grant check(const Poco::Net::HTTPServerRequest& request) const;

    /// Adds the session cookie to `response`.
    void set_cookie(const Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

    /// Whether `path` (the URL path, no query) needs no token.
    static bool open_path(const std::string& path);
    /// The session cookie's name for the port a request came in on.
    static std::string cookie_name(const Poco::Net::HTTPServerRequest& request);

private:
    bool matches(const std::string& candidate) const;
    std::string token_;
};

}  // namespace trainscope::agent
