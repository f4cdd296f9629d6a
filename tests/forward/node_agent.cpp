#include "forward/node_agent.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/json.hpp"

namespace trainscope::test {

namespace {
constexpr const char* kListening = "trainscope-agent listening on http://127.0.0.1:";
}

NodeAgent::NodeAgent(std::string host_name, std::string postgres)
    : host_(std::move(host_name)), postgres_(std::move(postgres)) {}

bool NodeAgent::start(const std::vector<std::string>& extra_args) {
    if (agent_) agent_->stop(5s);
    std::vector<std::string> args{"--port=0", "--namespace=" + ns_.name(), "--data-dir=" + data_.path(),
                                  "--auth=none", "--host-name=" + host_, "--postgres=" + postgres_};
    // No plugins unless the test loads some (--plugins-dir=DIR).
    bool plugins = std::any_of(extra_args.begin(), extra_args.end(),
                               [](const std::string& a) { return a.rfind("--plugins-dir=", 0) == 0; });
    if (!plugins) args.push_back("--plugins-dir=");
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    agent_ = std::make_unique<ChildProcess>(TS_AGENT_BIN, args);
    auto rest = agent_->wait_stdout_prefix(kListening, 20s);
    if (!rest) {
        std::string log;
        for (const std::string& line : agent_->stderr_lines()) log += "\n  " + line;
        ADD_FAILURE() << "the agent of " << host_ << " did not say it was listening; its stderr:" << log;
        return false;
    }
    port_ = static_cast<unsigned short>(std::stoi(*rest));
    return port_ != 0;
}

void NodeAgent::kill() {
    if (agent_) agent_->kill_now();
}

std::string NodeAgent::get(const std::string& target) const {
    return http_get(port_, target).body;
}

rapidjson::Document NodeAgent::healthz() const {
    HttpResponse r = http_get(port_, "/healthz", 3s);
    if (r.status != 200) return rapidjson::Document();
    return parse_json(r.body);
}

ChildProcess& NodeAgent::start_trainer(const std::string& run_id, int rank,
                                       const std::vector<std::string>& args) {
    ChildProcess::Env env{{"TRAINSCOPE_NAMESPACE", ns_.name()},
                          {"TRAINSCOPE_AUTOSTART", "0"},  // the test starts and kills the agents
                          {"TRAINSCOPE_RUN_ID", run_id},
                          {"RANK", std::to_string(rank)}};
    trainers_.push_back(std::make_unique<ChildProcess>(TS_PRODUCER_BIN, args, env));
    return *trainers_.back();
}

}  // namespace trainscope::test
