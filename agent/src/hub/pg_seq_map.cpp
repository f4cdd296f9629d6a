#include "hub/pg_seq_map.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "forward/pg_connection.hpp"
#include "hub/pg_reader.hpp"

namespace trainscope::agent {

std::vector<SeqRange> seq_ranges(PgConnection& pg, const std::string& session_id, std::int64_t since,
                                 std::int64_t upto) {
    // The primary key (session_id, run_seq_to) finds the first range ending past `since`.
    PgResult r = pg.exec("SELECT agent_id, run_seq_from, run_seq_to, node_seq_from FROM trainscope.run_seq_map "
                         "WHERE session_id = $1 AND run_seq_to > $2 AND run_seq_from < $3 ORDER BY run_seq_to",
                         {session_id, std::to_string(since), std::to_string(upto)});
    std::vector<SeqRange> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back(SeqRange{r.text(i, 0), r.int64(i, 1), r.int64(i, 2), r.int64(i, 3)});
    return out;
}

void read_range_points(PgConnection& pg, const std::string& session_id, const SeqRange& range,
                       std::int64_t since, std::int64_t upto, std::vector<SeriesUpdate>& out) {
    std::int64_t lo = std::max(since, range.run_from), hi = std::min(upto, range.run_to);
    if (hi <= lo) return;
    std::int64_t offset = range.run_from - range.node_from;  // hub seq = node seq + offset
    // The agent's series of the run, then each one's (series_id, seq) primary-key range.
    PgResult rows = pg.exec(
        "SELECT s.rank, s.name, p.seq, p.step, p.t_us, p.value FROM trainscope.series s "
        "JOIN trainscope.points p ON p.series_id = s.id "
        "WHERE s.session_id = $1 AND s.agent_id = $2 AND p.seq > $3 AND p.seq <= $4 ORDER BY p.seq",
        {session_id, range.agent_id, std::to_string(lo - offset), std::to_string(hi - offset)});
    std::map<std::pair<int, std::string>, std::size_t> index;
    for (std::size_t k = 0; k < out.size(); ++k) index.emplace(std::make_pair(out[k].rank, out[k].metric), k);
    for (int i = 0; i < rows.rows(); ++i) {
        auto [at, added] = index.try_emplace({static_cast<int>(rows.int64(i, 0)), rows.text(i, 1)}, out.size());
        if (added) out.push_back(SeriesUpdate{session_id, at->first.first, at->first.second, {}});
        out[at->second].points.push_back(StoredPoint{rows.int64(i, 2) + offset, rows.int64(i, 3),
                                         static_cast<double>(rows.int64(i, 4)) / 1000.0,
                                         pg_double(rows.text(i, 5), rows.is_null(i, 5))});
    }
}

std::vector<SeriesUpdate> PgReader::points_since(const std::string& session_id, std::int64_t since,
                                                 std::int64_t upto) {
    Use use(*this);
    std::vector<SeriesUpdate> out;
    for (const SeqRange& range : seq_ranges(*pg_, session_id, since, upto))
        read_range_points(*pg_, session_id, range, since, upto, out);
    return out;
}

}  // namespace trainscope::agent
