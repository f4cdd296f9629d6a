// The query string of a series request (GET /api/runs/{id}/metrics/{name}?from=&to=&
// max_points=&rank=&last=) turned into a SeriesRequest, apart from the HTTP server, so that
// it can be tested and fuzzed on its own.
#pragma once

#include <map>
#include <string>

#include "store/queries.hpp"

namespace trainscope::agent {

using QueryParams = std::map<std::string, std::string>;

/// The decoded query parameters of a request URI (the last of a repeated name wins).
/// Throws HttpError 400 on bad percent-encoding.
QueryParams parse_query_params(const std::string& uri);

/// Checks every parameter; throws HttpError 400 naming the first bad one.
SeriesRequest parse_series_request(const std::string& session_id, const std::string& metric,
                                   const QueryParams& params);

/// The largest max_points a request may ask for.
constexpr std::int64_t kMaxPointsLimit = 5'000'000;

}  // namespace trainscope::agent
