#include "forward/hub_process.hpp"

#include "support/agent_token.hpp"
#include "support/json.hpp"
#include "support/wait.hpp"
#include "support/ws_client.hpp"

namespace trainscope::test {

namespace {

std::vector<std::string> hub_args(const std::string& conninfo, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--hub", "--port=0", "--postgres=" + conninfo, "--token=" + test_token()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

}  // namespace

HubProcess::HubProcess(const std::string& conninfo, const std::vector<std::string>& extra_args)
    : process(TS_AGENT_BIN, hub_args(conninfo, extra_args)) {
    auto rest = process.wait_stdout_prefix("trainscope-agent listening on http://127.0.0.1:", 20s);
    if (rest) port = static_cast<unsigned short>(std::stoi(*rest));
}

std::string HubProcess::output() {
    std::string out;
    for (const std::string& line : process.stdout_lines()) out += line + "\n";
    for (const std::string& line : process.stderr_lines()) out += line + "\n";
    return out;
}

bool receive_until(WsClient& ws, const std::function<bool(const rapidjson::Document&)>& done,
                   std::chrono::milliseconds timeout) {
    return wait_until([&] {
        auto text = ws.receive_text(std::chrono::milliseconds(500));
        if (!text) return false;
        rapidjson::Document m = parse_json(*text);
        return m.IsObject() && done(m);
    }, timeout, std::chrono::milliseconds(0));
}

}  // namespace trainscope::test
