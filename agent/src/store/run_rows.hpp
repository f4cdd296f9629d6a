// How a run row is read: the columns every run query selects (the run, the user's edits from
// run_meta, the drop count) and the RunInfo made of them, shared by the run list, one run and
// the runs table so that a new field is added in one place.
#pragma once

#include "store/sqlite.hpp"
#include "store/types.hpp"

namespace trainscope::agent {

/// Select-list of a run row; `r` is runs, `m` run_meta (see kRunSource).
inline constexpr const char* kRunFields =
    "r.session_id, COALESCE(m.name, r.name), r.status, r.host, r.pid, r.started_ms, r.ended_ms, "
    "r.last_ms, r.last_seq, (SELECT COALESCE(SUM(dropped),0) FROM producers p WHERE "
    "p.session_id=r.session_id), r.name, COALESCE(m.notes, ''), COALESCE(m.tags, '')";
inline constexpr const char* kRunSource =
    "FROM runs r LEFT JOIN run_meta m ON m.session_id = r.session_id";
/// Columns kRunFields selects: a query may select more after them.
inline constexpr int kRunFieldCount = 13;

/// The run of the current row of a statement that selects kRunFields first.
RunInfo read_run(const Stmt& q);

}  // namespace trainscope::agent
