// The hub's seq of a run, mapped back to rows (table run_seq_map, pg_schema.cpp version 4).
// A run's hub seq is the sum of its nodes' shipped_seq; each shipped batch's rise of one
// node's shipped_seq took the next range of it, numbered in commit order under a per-run lock.
// So a range (run_from, run_to] of the hub's seq is the node's points with its own seq in
// (node_from, node_from + run_to - run_from], in the same order, on every hub: the live push
// and a replay (PgReader::points_since) number each point alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/types.hpp"

namespace trainscope::agent {

class PgConnection;

struct SeqRange {
    std::string agent_id;
    std::int64_t run_from = 0;  ///< the range is (run_from, run_to] on the hub's scale
    std::int64_t run_to = 0;
    std::int64_t node_from = 0;  ///< the agent's seq just before the range
};

/// The ranges of a run overlapping (since, upto], oldest first.
std::vector<SeqRange> seq_ranges(PgConnection& pg, const std::string& session_id, std::int64_t since,
                                 std::int64_t upto);

/// Appends the points of `range` whose hub seq is in (since, upto] to `out`, one SeriesUpdate
/// per (rank, metric), each point numbered on the hub's scale, in seq order.
void read_range_points(PgConnection& pg, const std::string& session_id, const SeqRange& range,
                       std::int64_t since, std::int64_t upto, std::vector<SeriesUpdate>& out);

}  // namespace trainscope::agent
