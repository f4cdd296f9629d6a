#include "serve/route_table.hpp"

#include <algorithm>

#include "serve/http_util.hpp"

namespace trainscope::agent {

namespace {

std::vector<std::string> split_pattern(const std::string& pattern) {
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < pattern.size();) {
        std::size_t j = pattern.find('/', i);
        if (j == std::string::npos) j = pattern.size();
        if (j > i) parts.push_back(pattern.substr(i, j - i));
        i = j + 1;
    }
    return parts;
}

bool allows(const std::string& route_method, const std::string& method) {
    return route_method == method || (route_method == "GET" && method == "HEAD");
}

}  // namespace

void RouteTable::add(std::string method, const std::string& pattern, RouteHandler handler) {
    entries_.push_back(Entry{std::move(method), pattern, split_pattern(pattern), std::move(handler)});
}

bool RouteTable::matches(const std::vector<std::string>& parts, const std::vector<std::string>& segments,
                         std::map<std::string, std::string>* captures) {
    bool rest = !parts.empty() && parts.back() == "**";
    std::size_t fixed = rest ? parts.size() - 1 : parts.size();
    if (rest ? segments.size() < fixed : segments.size() != fixed) return false;
    for (std::size_t i = 0; i < fixed; ++i) {
        const std::string& p = parts[i];
        bool capture = p.size() > 2 && p.front() == '{' && p.back() == '}';
        if (!capture && p != segments[i]) return false;
    }
    if (captures) {
        for (std::size_t i = 0; i < fixed; ++i)
            if (parts[i].front() == '{') (*captures)[parts[i]] = segments[i];
        if (rest) {
            std::string tail;
            for (std::size_t i = fixed; i < segments.size(); ++i) tail += (i > fixed ? "/" : "") + segments[i];
            (*captures)["**"] = tail;
        }
    }
    return true;
}

void RouteTable::dispatch(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const {
    const std::string& uri = request.getURI();
    std::string raw_path = uri.substr(0, uri.find('?'));
    RouteRequest r{request, response, split_path(raw_path), {}};
    const std::string& method = request.getMethod();
    bool path_known = false;   // some route matches the path
    bool path_served = false;  // some route of this method matches it (and declined)
    for (const Entry& e : entries_) {
        r.captures.clear();
        if (!matches(e.parts, r.segments, &r.captures)) continue;
        path_known = true;
        if (!allows(e.method, method)) continue;
        path_served = true;
        if (e.handler(r)) return;
    }
    // A method no route takes, or a path served by other methods only.
    bool method_known = std::any_of(entries_.begin(), entries_.end(),
                                    [&](const Entry& e) { return allows(e.method, method); });
    if (!method_known || (path_known && !path_served)) throw HttpError{405, "method not allowed: " + method};
    throw HttpError{404, "no such path: " + raw_path};
}

}  // namespace trainscope::agent
