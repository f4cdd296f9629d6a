// A tiny blocking HTTP client for tests (Poco::Net::HTTPClientSession): one request per call,
// the target sent exactly as given (no normalisation), status and body returned.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace trainscope::test {

using namespace std::chrono_literals;

struct HttpResponse {
    int status = 0;  ///< 0: no response (connection failed; see error)
    std::string body;
    std::string content_type;
    std::string content_disposition;
    std::string error;  ///< transport failure, if any

    std::string set_cookie;  ///< the first Set-Cookie header, if any
    std::string www_authenticate;
    std::map<std::string, std::string> headers;  ///< every response header (the last of repeats)
};

using Headers = std::map<std::string, std::string>;

/// Sends `method target HTTP/1.1` to 127.0.0.1:port with exactly `headers` and reads the whole
/// response.
HttpResponse http_request_with(unsigned short port, const std::string& method, const std::string& target,
                               const Headers& headers, std::chrono::milliseconds timeout = 10s);

/// The same with the tests' agent token as "Authorization: Bearer" (see agent_token.hpp).
HttpResponse http_request(unsigned short port, const std::string& method, const std::string& target,
                          std::chrono::milliseconds timeout = 10s);

/// `method target` with the tests' token and `body` as application/json (PATCH, POST ...).
HttpResponse http_request_body(unsigned short port, const std::string& method, const std::string& target,
                               const std::string& body, std::chrono::milliseconds timeout = 10s);

/// The header that carries the tests' agent token.
Headers bearer_header();

inline HttpResponse http_get(unsigned short port, const std::string& target,
                             std::chrono::milliseconds timeout = 10s) {
    return http_request(port, "GET", target, timeout);
}

/// Writes `request` (a whole raw HTTP request) to 127.0.0.1:port as far as the server
/// reads it, then reads the reply until the server closes. For requests the server cuts
/// short, such as an over-long request line, where a normal client fails while sending.
HttpResponse raw_http_exchange(unsigned short port, const std::string& request,
                               std::chrono::milliseconds timeout = 10s);

/// Percent-encodes everything but unreserved characters, so "t0/m0" becomes "t0%2Fm0".
std::string url_encode(const std::string& s);

}  // namespace trainscope::test
