// One node of a multi-node test: a namespace and data directory of its own (standing in for
// a machine), a real trainscope-agent on it that ships to PostgreSQL under its own host name,
// and ts-producer trainers in its namespace. Every process is a direct child, stopped by pid.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/shm_names.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::test {

class NodeAgent {
public:
    NodeAgent(std::string host_name, std::string postgres);

    /// Starts (or restarts) the agent; fails the test and returns false if it does not listen.
    bool start(const std::vector<std::string>& extra_args = {});
    /// SIGKILL and reap: the agent dies mid-whatever, as a crashed machine's would.
    void kill();
    /// GET /healthz as JSON (a null document if the agent does not answer).
    rapidjson::Document healthz() const;
    std::string get(const std::string& target) const;

    /// ts-producer in this node's namespace as `rank` of run `run_id`.
    ChildProcess& start_trainer(const std::string& run_id, int rank, const std::vector<std::string>& args);

    const std::string& host_name() const { return host_; }
    unsigned short port() const { return port_; }
    const std::string& data_dir() const { return data_.path(); }
    ChildProcess& agent() { return *agent_; }

private:
    std::string host_, postgres_;
    ShmNamespace ns_;
    TempDir data_{"tsnode"};
    std::unique_ptr<ChildProcess> agent_;
    unsigned short port_ = 0;
    std::vector<std::unique_ptr<ChildProcess>> trainers_;
};

}  // namespace trainscope::test
