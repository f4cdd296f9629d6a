#include "serve/request_gate.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>

#include <algorithm>
#include <cctype>

namespace trainscope::agent {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

/// An origin as browsers send it, for comparison: lowercased, without a trailing slash.
std::string normal_origin(std::string origin) {
    origin = lower(std::move(origin));
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    return origin;
}

/// Every address of this machine's interfaces, as text ("10.0.0.5", "fe80::1").
std::vector<std::string> interface_addresses() {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (a->ifa_addr->sa_family == AF_INET) {
            auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
            if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) out.emplace_back(text);
        } else if (a->ifa_addr->sa_family == AF_INET6) {
            auto* in6 = reinterpret_cast<sockaddr_in6*>(a->ifa_addr);
            if (::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text)) out.emplace_back(text);
        }
    }
    ::freeifaddrs(list);
    return out;
}

bool state_changing(const std::string& method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

std::string RequestGate::host_name(const std::string& host_header) {
    std::string h = lower(Poco::trim(host_header));
    if (!h.empty() && h.front() == '[') {  // [v6]:port
        std::size_t close = h.find(']');
        return close == std::string::npos ? h : h.substr(1, close - 1);
    }
    if (std::count(h.begin(), h.end(), ':') == 1) h = h.substr(0, h.find(':'));  // name:port
    while (!h.empty() && h.back() == '.') h.pop_back();
    return h;
}

bool RequestGate::is_loopback(const std::string& name) {
    if (name == "localhost" || name == "::1") return true;
    in_addr v4{};
    return ::inet_pton(AF_INET, name.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

RequestGate::RequestGate(const GateOptions& options, Poco::Logger& log) : log_(log) {
    std::string bind = host_name(options.bind);
    if (!bind.empty() && bind != "0.0.0.0" && bind != "::") hosts_.insert(bind);
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0 && name[0]) hosts_.insert(lower(name));
    for (const std::string& address : interface_addresses()) hosts_.insert(lower(address));
    for (const std::string& host : options.public_hosts) hosts_.insert(host_name(host));
    for (const std::string& origin : options.allowed_origins) origins_.insert(normal_origin(origin));
}

bool RequestGate::host_allowed(const std::string& name) const {
    return is_loopback(name) || hosts_.count(name) > 0;
}

std::optional<GateRefusal> RequestGate::check(const Poco::Net::HTTPServerRequest& request) const {
    // HTTP/1.0 clients may send no Host: nothing to rebind, so nothing to refuse.
    if (request.has("Host")) {
        const std::string& host = request.getHost();
        std::string name = host_name(host);
        if (!host_allowed(name)) {
            log_once("Host", name);  // once per name, whatever port it came with
            return GateRefusal{421, "this agent does not serve the host '" + host +
                                        "' (loopback, this machine's names and addresses, and --public-host only)"};
        }
    }
    bool upgrade = Poco::icompare(request.get("Upgrade", ""), "websocket") == 0;
    if ((upgrade || state_changing(request.getMethod())) && request.has("Origin")) {
        std::string origin = normal_origin(request.get("Origin"));
        bool own = request.has("Host") && origin == "http://" + lower(request.getHost());
        if (!own && !origins_.count(origin)) {
            log_once("Origin", request.get("Origin"));
            return GateRefusal{403, "requests from the origin '" + request.get("Origin") +
                                        "' are not allowed (this agent's own pages and --allow-origin only)"};
        }
    }
    return std::nullopt;
}

void RequestGate::log_once(const std::string& what, const std::string& value) const {
    std::lock_guard<std::mutex> lock(logged_mutex_);
    if (logged_.size() >= kMaxLogged || !logged_.insert(what + " " + value).second) return;
    log_.warning("refused a request with %s: %s (logged once per value)", what, value);
}

}  // namespace trainscope::agent
