// The dashboard page with its first load inside it: the run the address names (?run=, else
// the newest run) and the series its chart shows by default, each exactly as
// GET /api/runs/{id} and GET /api/runs/{id}/metrics/{name}?max_points=N&rank=0 answer them,
// in a <script type="application/json" id="trainscope-first-load"> where the page has its
// marker. The page's first script takes them instead of asking (web/static/js/first_load.js):
// its first chart waits for no request after the page itself. Anything it does not find
// there (another max_points, a series chosen otherwise) it asks for as before.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serve/series_params.hpp"
#include "store/run_reader.hpp"

namespace trainscope::agent {

/// Where the page takes its first load (a line of its own in web/static/dashboard.html).
inline constexpr const char* kFirstLoadMarker = "<!-- trainscope:first-load -->";

/// The series a run's chart shows at start: web/static/js/first_load.js's shownByDefault.
/// `chosen` (?metrics=) decides when given; else every metric whose name holds "loss" (any
/// case); else the first one that is not the system plugin's.
std::vector<std::string> shown_by_default(const std::vector<std::string>& metrics,
                                          const std::vector<std::string>& chosen);

/// The first load as JSON: {"run_id": the ?run= asked for or null, "max_points": N,
/// "run": {...}, "series": [{"metric", "rank": 0, "answer": {...}}, ...]}; nullopt when there
/// is nothing to carry (no run, ?run= names none, a query the page reads otherwise).
/// `live_dropped(id)`: the run's drop count while live. Series stop once the JSON holds
/// `max_bytes` (the page asks for the rest).
std::optional<std::string> first_load_json(RunReader& reader, const QueryParams& params,
                                           const std::function<std::uint64_t(const std::string&)>& live_dropped,
                                           std::size_t max_bytes = 2 << 20);

/// `page` with `json` in a <script type="application/json"> at the marker, every '<' of it
/// written as \u003c (a run named "</script>" stays text); `page` unchanged without a marker.
std::string page_with_first_load(const std::string& page, const std::string& json);

}  // namespace trainscope::agent
