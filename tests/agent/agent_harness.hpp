// The multi-process test bench: a namespace and a fresh data directory of the test's own,
// the real trainscope-agent (on --port=0) and ts-producer trainers as direct children, and
// the REST calls the tests make. Everything is stopped and removed on destruction.
#pragma once

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ingest/segment_reader.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/shm_names.hpp"
#include "support/temp_dir.hpp"

namespace trainscope::test {

class AgentHarness {
public:
    AgentHarness();
    ~AgentHarness();

    const std::string& name_space() const { return ns_.name(); }
    std::string db_path() const { return data_dir_.path() + "/trainscope.db"; }

    /// Starts the agent (with `extra_args`, and TRAINSCOPE_TOKEN=test_token() unless `env` says
    /// otherwise) and waits for its "listening" line; false (with a failure) if not.
    bool start_agent(const std::vector<std::string>& extra_args = {}, const ChildProcess::Env& env = {});
    ChildProcess& agent() { return *agent_; }
    /// SIGKILL the agent and reap it.
    void kill_agent();
    unsigned short port() const { return port_; }
    /// The URL of the agent's "listening on" line.
    const std::string& url() const { return url_; }

    /// Starts ts-producer in this namespace with `args`, plus `env`.
    ChildProcess& start_producer(const std::vector<std::string>& args,
                                 const ChildProcess::Env& env = {});
    /// The session id a producer prints first ("" with a failure if it does not).
    static std::string session_of(ChildProcess& producer);
    /// The drop count a producer prints last ("done <n>"); nullopt if it does not.
    static std::optional<std::uint64_t> done_of(ChildProcess& producer,
                                                std::chrono::milliseconds timeout = 30s);

    /// Maps the namespace's one trainer segment, as the agent does (it stays readable after
    /// the agent removes it); null with a failure if there is not exactly one.
    std::unique_ptr<agent::SegmentReader> open_trainer_segment() const;

    HttpResponse get(const std::string& target) const { return http_get(port_, target); }
    /// GET target, expecting 200 and a JSON body; a null document (with a failure) if not.
    rapidjson::Document get_json(const std::string& target) const;

    /// The run object of GET /api/runs/{id}; a null document if unknown.
    rapidjson::Document run(const std::string& session_id) const;
    /// Waits until the run's status is `status`; a failure naming the last status on timeout.
    ::testing::AssertionResult wait_status(const std::string& session_id, const std::string& status,
                                           std::chrono::milliseconds timeout = 10s) const;
    /// Waits until the run's "points" count reaches `points`; a failure on timeout.
    ::testing::AssertionResult wait_points(const std::string& session_id, std::int64_t points,
                                           std::chrono::milliseconds timeout = 10s) const;
    /// Waits until no trainer segment of the namespace is left in /dev/shm.
    ::testing::AssertionResult wait_segments_removed(std::chrono::milliseconds timeout = 10s) const;
    /// Lines of the agent's log (stderr) that name `text`.
    std::vector<std::string> agent_log_lines_naming(const std::string& text) const;

private:
    ShmNamespace ns_;
    TempDir data_dir_;
    std::unique_ptr<ChildProcess> agent_;
    unsigned short port_ = 0;
    std::string url_;
    std::vector<std::unique_ptr<ChildProcess>> producers_;
};

/// A GoogleTest fixture owning one AgentHarness with its agent started.
class AgentProcessTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(h_.start_agent()); }
    AgentHarness h_;
};

}  // namespace trainscope::test
