// The node agent's stable identity in PostgreSQL: 32 hex digits kept in <data-dir>/agent_id.
// It names the agent's ledger rows and series, so it lives as long as the local store whose
// seq numbers it vouches for (a new data dir is a new agent).
#pragma once

#include <string>

namespace trainscope::agent {

/// Reads <data_dir>/agent_id, creating it (0600, written then renamed into place) on first use.
/// Throws std::runtime_error if it cannot be read or written, or holds something else.
std::string load_or_create_agent_id(const std::string& data_dir);

}  // namespace trainscope::agent
