// The server's own WebSocket messages other than points (json_out.hpp has training_update):
// hello, run events, and one-key messages such as errors.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace trainscope::agent {

class RunReader;

/// {"type": kind, "session_id", "run": {...}} (run_started, run_ended, ...).
std::string run_event_json(RunReader& q, const std::string& kind, const std::string& session,
                           const std::map<std::string, std::uint64_t>& dropped);
/// Runs a hello lists at most (the newest).
inline constexpr int kHelloRuns = 200;

/// {"type": "hello", "version", "session_id": newest or null, "sessions": [the newest
/// kHelloRuns runs], "total_runs": how many are stored}.
std::string hello_json(RunReader& q, const std::string& version,
                       const std::map<std::string, std::uint64_t>& dropped);
/// {"type": type, key: value}.
std::string simple_json(const char* type, const std::string& key, const std::string& value);

}  // namespace trainscope::agent
