// trainscope-agent --hub on a test's PostgreSQL, with the tests' token: a direct child,
// stopped by pid when the object goes.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace trainscope::test {

struct HubProcess {
    explicit HubProcess(const std::string& conninfo, const std::vector<std::string>& extra_args = {});
    /// Its output so far, for a failure message.
    std::string output();
    ChildProcess process;
    unsigned short port = 0;  ///< 0: it never said it was listening
};

/// Reads WebSocket frames from `ws` until `done(message)` holds for one (true) or `timeout`.
class WsClient;
bool receive_until(WsClient& ws, const std::function<bool(const rapidjson::Document&)>& done,
                   std::chrono::milliseconds timeout);

}  // namespace trainscope::test
