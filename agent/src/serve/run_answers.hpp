// The bodies of GET /api/runs/{id} and GET /api/runs/{id}/metrics/{name}, each written by one
// function: the REST routes send them, and the dashboard page carries the first ones inside
// it (page_first_load.hpp), so the page gets the very bytes it would have asked for.
#pragma once

#include <rapidjson/stringbuffer.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "store/run_reader.hpp"

namespace trainscope::agent {

/// GET /api/runs/{id}'s body (the run, its drop count, its config); nullopt for an unknown run.
std::optional<std::string> run_answer(RunReader& reader, const std::string& id, std::uint64_t live_dropped);
/// The same for a run already read.
std::string run_answer(RunReader& reader, const RunInfo& run, std::uint64_t live_dropped);

/// Writes a series answer into `buf`: {session_id, metric, points: [[step, t_ms, value]...],
/// rank, downsampled, total, seq}. `started` runs before its first byte (the route sends its
/// headers there: until then a 404 can still be sent); `chunk` whenever `buf` holds 64 KiB
/// (the route sends and clears it). Returns false, having written nothing, for a series the
/// run does not have.
bool write_series_answer(RunReader& reader, const SeriesRequest& request, rapidjson::StringBuffer& buf,
                         const std::function<void()>& started, const std::function<void()>& chunk);

}  // namespace trainscope::agent
