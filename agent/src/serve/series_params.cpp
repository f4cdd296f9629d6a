#include "serve/series_params.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "serve/http_util.hpp"

namespace trainscope::agent {

namespace {

std::int64_t int_param(const QueryParams& params, const std::string& name, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) {
    auto it = params.find(name);
    if (it == params.end() || it->second.empty()) return fallback;
    auto v = parse_int(it->second);
    if (!v) throw HttpError{400, name + " must be an integer, got '" + it->second + "'"};
    if (*v < lo || *v > hi)
        throw HttpError{400, name + " must be between " + std::to_string(lo) + " and " +
                                 std::to_string(hi) + ", got " + it->second};
    return *v;
}

}  // namespace

QueryParams parse_query_params(const std::string& uri) {
    QueryParams out;
    try {
        for (auto& [k, v] : Poco::URI(uri).getQueryParameters()) out[k] = v;
    } catch (const Poco::SyntaxException&) {
        throw HttpError{400, "bad percent-encoding in query string"};
    }
    return out;
}

SeriesRequest parse_series_request(const std::string& session_id, const std::string& metric,
                                   const QueryParams& params) {
    SeriesRequest req;
    req.session_id = session_id;
    req.metric = metric;
    req.from = int_param(params, "from", req.from, INT64_MIN, INT64_MAX);
    req.to = int_param(params, "to", req.to, INT64_MIN, INT64_MAX);
    if (req.from > req.to) throw HttpError{400, "from must not be greater than to"};
    req.max_points = static_cast<std::size_t>(int_param(params, "max_points", 2000, 1, kMaxPointsLimit));
    req.rank = static_cast<int>(int_param(params, "rank", -1, 0, 1 << 20));
    req.last_only = int_param(params, "last", 0, 0, 1) == 1;
    if (req.last_only && (params.count("from") || params.count("to") || params.count("max_points")))
        throw HttpError{400, "last=1 returns the newest point: it takes no from, to or max_points"};
    return req;
}

}  // namespace trainscope::agent
