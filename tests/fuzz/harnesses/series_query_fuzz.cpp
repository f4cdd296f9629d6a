// The series query parser: any query string on GET /api/runs/{id}/metrics/{name}.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "serve/http_util.hpp"
#include "serve/series_params.hpp"

namespace ts = trainscope::agent;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string uri = "/api/runs/r/metrics/m?" + std::string(reinterpret_cast<const char*>(data), size);
    try {
        ts::QueryParams params = ts::parse_query_params(uri);
        ts::SeriesRequest req = ts::parse_series_request("r", "m", params);
        FUZZ_CHECK(req.from <= req.to, "from after to accepted");
        FUZZ_CHECK(req.max_points >= 1 && req.max_points <= static_cast<std::size_t>(ts::kMaxPointsLimit),
                   "max_points out of range accepted");
        FUZZ_CHECK(req.rank >= -1 && req.rank <= (1 << 20), "rank out of range accepted");
        FUZZ_CHECK(!req.last_only || (!params.count("from") && !params.count("to") && !params.count("max_points")),
                   "last=1 with a range accepted");
    } catch (const ts::HttpError& e) {
        FUZZ_CHECK(e.status == 400 && !e.message.empty(), "a refusal that is not a 400 with a reason");
    }
    return 0;
}
